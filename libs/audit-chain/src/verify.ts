import type { KeyObject } from 'node:crypto';
import {
  AUDIT_CHECKPOINT_PURPOSE,
  AUDIT_EVENT_PURPOSE,
  type VerificationReport,
} from '@heroagent/contracts';
import {
  CryptoError,
  ed25519Fingerprint,
  ed25519PublicKeyFromRaw,
  fromBase64Url,
  verifyJson,
} from '@heroagent/crypto';
import {
  bundleLineSchema,
  type BundleCheckpoint,
  type BundleEvent,
  type BundleHeader,
  type BundleKey,
} from './bundle.js';
import { GENESIS_HASH, canonicalEnvelope, chainHash, leafHash } from './hashing.js';
import { MerkleFrontier } from './merkle.js';

/** Why a bundle (or a stored record) does not verify. */
export type VerificationProblemCode =
  | 'MALFORMED_LINE'
  | 'MISSING_HEADER'
  | 'DUPLICATE_HEADER'
  | 'TENANT_MISMATCH'
  | 'DUPLICATE_KEY'
  | 'SEQUENCE_GAP'
  | 'SEQUENCE_OUT_OF_ORDER'
  | 'PREV_HASH_MISMATCH'
  | 'HASH_MISMATCH'
  | 'DUPLICATE_EVENT'
  | 'UNKNOWN_KEY'
  | 'KEY_SERVICE_MISMATCH'
  | 'KEY_NOT_VALID'
  | 'SIGNATURE_INVALID'
  | 'CHECKPOINT_KEY_NOT_AUDIT'
  | 'AUDIT_KEY_NOT_TRUSTED'
  | 'CHECKPOINT_SIGNATURE_INVALID'
  | 'CHECKPOINT_OUT_OF_ORDER'
  | 'CHECKPOINT_ROOT_MISMATCH'
  | 'CHECKPOINT_CHAIN_HEAD_MISMATCH'
  | 'CHECKPOINT_CHAIN_BROKEN'
  | 'TRUNCATED'
  | 'UNCOVERED_TAIL';

/** How strictly to verify. */
export interface VerifyOptions {
  /**
   * Fingerprints (`ed25519:…`, see `ed25519Fingerprint`) of the audit keys the verifier trusts.
   * Without them a bundle is checked for internal consistency only: whoever rewrote it whole,
   * keys included, would go unnoticed. The service pins its own keys; the CLI takes `--trust`.
   */
  readonly trustedAuditKeys?: ReadonlySet<string>;
  /** Require a checkpoint covering the last event (an export always ends with one). */
  readonly requireCoveredTail?: boolean;
}

interface KnownKey {
  readonly line: BundleKey;
  readonly publicKey: KeyObject;
  readonly fingerprint: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

interface Problem {
  readonly line?: number;
  readonly seq?: number;
  readonly code: VerificationProblemCode;
  readonly message: string;
}

/**
 * Verifies an audit bundle line by line, in one pass and constant memory per event: the header,
 * every event's place, chain hash and signature, and every checkpoint's signature, tree root,
 * chain head and link to the previous checkpoint. It stops at, and names, the first bad record.
 */
export class BundleVerifier {
  private header: BundleHeader | undefined;
  private readonly keys = new Map<string, KnownKey>();
  private readonly eventIds = new Set<string>();
  private readonly frontier = MerkleFrontier.empty();
  private lastHash: Buffer = GENESIS_HASH;
  private events = 0;
  private checkpoints = 0;
  private lastCheckpoint: { treeSize: number; rootHash: string } | undefined;
  private readonly pending: { line: number; checkpoint: BundleCheckpoint }[] = [];
  private problem: Problem | undefined;
  private lines = 0;

  constructor(private readonly options: VerifyOptions = {}) {}

  /** True once a problem was found; further lines are ignored. */
  get failed(): boolean {
    return this.problem !== undefined;
  }

  /** Feeds the next line (without its newline). Blank lines are ignored. */
  line(text: string): void {
    this.lines += 1;
    if (this.problem !== undefined || text.trim() === '') return;
    const lineNumber = this.lines;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.fail({ line: lineNumber, code: 'MALFORMED_LINE', message: 'not JSON' });
    }
    const parsed = bundleLineSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.fail({
        line: lineNumber,
        code: 'MALFORMED_LINE',
        message: `not a bundle line: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      });
    }
    const value = parsed.data;
    if (value.type === 'header') return this.onHeader(lineNumber, value);
    if (this.header === undefined) {
      return this.fail({
        line: lineNumber,
        code: 'MISSING_HEADER',
        message: 'the bundle does not start with its header',
      });
    }
    if (value.type === 'key') return this.onKey(lineNumber, value);
    if (value.type === 'event') return this.onEvent(lineNumber, value);
    return this.onCheckpoint(lineNumber, value);
  }

  /** Ends the bundle and reports. */
  finish(): VerificationReport {
    if (this.problem === undefined) {
      if (this.header === undefined) {
        this.fail({ code: 'MISSING_HEADER', message: 'the bundle is empty' });
      } else if (this.pending.length > 0) {
        const { line, checkpoint } = this.pending[0]!;
        this.fail({
          line,
          code: 'TRUNCATED',
          message: `a checkpoint covers ${checkpoint.checkpoint.treeSize} events but the bundle holds ${this.events}: events were removed`,
        });
      } else if (this.events < this.header.events) {
        this.fail({
          code: 'TRUNCATED',
          message: `the header announces ${this.header.events} events but the bundle holds ${this.events}`,
        });
      } else if (
        this.options.requireCoveredTail &&
        this.events > 0 &&
        this.lastCheckpoint?.treeSize !== this.events
      ) {
        this.fail({
          seq: (this.lastCheckpoint?.treeSize ?? 0) + 1,
          code: 'UNCOVERED_TAIL',
          message: `events after ${this.lastCheckpoint?.treeSize ?? 0} are not covered by a signed checkpoint`,
        });
      }
    }
    return {
      ok: this.problem === undefined,
      events: this.events,
      checkpoints: this.checkpoints,
      ...(this.problem === undefined ? {} : { firstProblem: this.problem }),
    };
  }

  private onHeader(line: number, header: BundleHeader): void {
    if (this.header !== undefined || line !== 1) {
      return this.fail({
        line,
        code: 'DUPLICATE_HEADER',
        message: 'a header in the middle of the bundle',
      });
    }
    this.header = header;
  }

  private onKey(line: number, key: BundleKey): void {
    if (this.keys.has(key.kid))
      return this.fail({ line, code: 'DUPLICATE_KEY', message: `key ${key.kid} appears twice` });
    let publicKey: KeyObject;
    try {
      publicKey = ed25519PublicKeyFromRaw(fromBase64Url(key.publicKey) ?? Buffer.alloc(0));
    } catch {
      return this.fail({
        line,
        code: 'MALFORMED_LINE',
        message: `key ${key.kid} is not an Ed25519 public key`,
      });
    }
    this.keys.set(key.kid, {
      line: key,
      publicKey,
      fingerprint: ed25519Fingerprint(publicKey),
      notBefore: Date.parse(key.notBefore),
      notAfter: key.notAfter === undefined ? Number.POSITIVE_INFINITY : Date.parse(key.notAfter),
    });
  }

  private onEvent(line: number, record: BundleEvent): void {
    const expected = this.events + 1;
    const { seq } = record;
    if (seq > expected) {
      return this.fail({
        line,
        seq,
        code: 'SEQUENCE_GAP',
        message: `event ${expected} is missing (next is ${seq})`,
      });
    }
    if (seq < expected) {
      return this.fail({
        line,
        seq,
        code: 'SEQUENCE_OUT_OF_ORDER',
        message: `event ${seq} comes after event ${expected - 1}`,
      });
    }
    if (record.prevHash !== this.lastHash.toString('hex')) {
      return this.fail({
        line,
        seq,
        code: 'PREV_HASH_MISMATCH',
        message: `event ${seq} does not follow event ${seq - 1}`,
      });
    }
    const canonical = canonicalEnvelope(record.envelope);
    const hash = chainHash(this.lastHash, canonical);
    if (hash.toString('hex') !== record.hash) {
      return this.fail({
        line,
        seq,
        code: 'HASH_MISMATCH',
        message: `event ${seq} was changed after it was chained`,
      });
    }
    const { event } = record.envelope;
    if (event.tenantId !== this.header!.tenantId) {
      return this.fail({
        line,
        seq,
        code: 'TENANT_MISMATCH',
        message: `event ${seq} belongs to another tenant`,
      });
    }
    if (this.eventIds.has(event.id)) {
      return this.fail({
        line,
        seq,
        code: 'DUPLICATE_EVENT',
        message: `event id ${event.id} appears twice`,
      });
    }
    const problem = this.checkEventSignature(record);
    if (problem !== undefined) return this.fail({ line, seq, ...problem });
    this.eventIds.add(event.id);
    this.lastHash = hash;
    this.frontier.append(leafHash(canonical));
    this.events = seq;
    this.settlePending();
  }

  private checkEventSignature(record: BundleEvent): Omit<Problem, 'line' | 'seq'> | undefined {
    const { event, signature } = record.envelope;
    const key = this.keys.get(signature.kid);
    if (key === undefined)
      return {
        code: 'UNKNOWN_KEY',
        message: `event ${record.seq} is signed by unknown key ${signature.kid}`,
      };
    if (key.line.service !== event.source) {
      return {
        code: 'KEY_SERVICE_MISMATCH',
        message: `event ${record.seq} claims ${event.source} but is signed by a ${key.line.service} key`,
      };
    }
    const at = Date.parse(event.occurredAt);
    if (!(at >= key.notBefore && at < key.notAfter)) {
      return {
        code: 'KEY_NOT_VALID',
        message: `key ${key.line.kid} was not valid when event ${record.seq} occurred`,
      };
    }
    try {
      verifyJson(event, AUDIT_EVENT_PURPOSE, signature, () => key.publicKey);
      return undefined;
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      return {
        code: 'SIGNATURE_INVALID',
        message: `the signature of event ${record.seq} does not verify`,
      };
    }
  }

  private onCheckpoint(line: number, signed: BundleCheckpoint): void {
    const { checkpoint, signature } = signed;
    const key = this.keys.get(signature.kid);
    if (key === undefined) {
      return this.fail({
        line,
        code: 'UNKNOWN_KEY',
        message: `checkpoint ${checkpoint.treeSize} is signed by unknown key ${signature.kid}`,
      });
    }
    if (key.line.service !== 'audit') {
      return this.fail({
        line,
        code: 'CHECKPOINT_KEY_NOT_AUDIT',
        message: `checkpoint ${checkpoint.treeSize} is signed by a ${key.line.service} key`,
      });
    }
    if (
      this.options.trustedAuditKeys !== undefined &&
      !this.options.trustedAuditKeys.has(key.fingerprint)
    ) {
      return this.fail({
        line,
        code: 'AUDIT_KEY_NOT_TRUSTED',
        message: `checkpoint ${checkpoint.treeSize} is signed by ${key.fingerprint}, which is not a trusted audit key`,
      });
    }
    try {
      verifyJson(checkpoint, AUDIT_CHECKPOINT_PURPOSE, signature, () => key.publicKey);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      return this.fail({
        line,
        code: 'CHECKPOINT_SIGNATURE_INVALID',
        message: `the signature of checkpoint ${checkpoint.treeSize} does not verify`,
      });
    }
    if (checkpoint.tenantId !== this.header!.tenantId) {
      return this.fail({
        line,
        code: 'TENANT_MISMATCH',
        message: `checkpoint ${checkpoint.treeSize} belongs to another tenant`,
      });
    }
    if (checkpoint.treeSize < this.events) {
      return this.fail({
        line,
        code: 'CHECKPOINT_OUT_OF_ORDER',
        message: `checkpoint ${checkpoint.treeSize} appears after event ${this.events}`,
      });
    }
    this.pending.push({ line, checkpoint: signed });
    this.settlePending();
  }

  /** Checks the checkpoints whose tree size has been reached. */
  private settlePending(): void {
    while (
      this.problem === undefined &&
      this.pending[0]?.checkpoint.checkpoint.treeSize === this.events
    ) {
      const { line, checkpoint: signed } = this.pending.shift()!;
      const { checkpoint } = signed;
      if (this.frontier.root().toString('hex') !== checkpoint.rootHash) {
        return this.fail({
          line,
          code: 'CHECKPOINT_ROOT_MISMATCH',
          message: `the events do not hash to the root signed at ${checkpoint.treeSize}`,
        });
      }
      if (this.lastHash.toString('hex') !== checkpoint.chainHead) {
        return this.fail({
          line,
          code: 'CHECKPOINT_CHAIN_HEAD_MISMATCH',
          message: `the chain head at ${checkpoint.treeSize} differs`,
        });
      }
      const previous = checkpoint.previous;
      const linked =
        previous === null
          ? this.lastCheckpoint === undefined
          : this.lastCheckpoint !== undefined &&
            previous.treeSize === this.lastCheckpoint.treeSize &&
            previous.rootHash === this.lastCheckpoint.rootHash;
      if (!linked) {
        return this.fail({
          line,
          code: 'CHECKPOINT_CHAIN_BROKEN',
          message: `checkpoint ${checkpoint.treeSize} does not follow the previous checkpoint`,
        });
      }
      this.lastCheckpoint = { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash };
      this.checkpoints += 1;
    }
  }

  private fail(problem: Problem): void {
    this.problem ??= problem;
  }
}

/** Verifies a whole bundle given as lines. */
export async function verifyBundleLines(
  lines: AsyncIterable<string> | Iterable<string>,
  options: VerifyOptions = {},
): Promise<VerificationReport> {
  const verifier = new BundleVerifier(options);
  for await (const line of lines) {
    verifier.line(line);
    if (verifier.failed) break;
  }
  return verifier.finish();
}
