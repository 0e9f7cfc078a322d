import type { KeyObject } from 'node:crypto';
import {
  AUDIT_CHECKPOINT_PURPOSE,
  type Checkpoint,
  type SignedCheckpoint,
  type VerificationReport,
} from '@heroagent/contracts';
import {
  CryptoError,
  ed25519Fingerprint,
  ed25519PublicKeyFromRaw,
  ed25519Verify,
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
import { linkTo, type CheckpointLink } from './chain.js';
import { GENESIS_HASH, linkHashes, signedEventForms, type SignedEventForms } from './hashing.js';
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
  | 'CHECKPOINT_GAP'
  | 'CHECKPOINT_FORK'
  | 'TRUNCATED'
  | 'UNCOVERED_TAIL'
  | 'SINCE_TENANT_MISMATCH'
  | 'SINCE_KEY_UNKNOWN'
  | 'SINCE_KEY_NOT_TRUSTED'
  | 'SINCE_SIGNATURE_INVALID'
  | 'SINCE_NOT_EXTENDED'
  | 'SINCE_TRUNCATED';

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
  /**
   * A checkpoint kept from earlier (`audit:verify --since`): the bundle must extend it. Its
   * signature must verify under a trusted audit key; the bundle's first `treeSize` events must
   * hash to its root and chain head (what a consistency proof would show, computed from the
   * events themselves); and the bundle's checkpoint of the same number must be this one.
   */
  readonly since?: SignedCheckpoint;
}

/** The last checkpoint seen: how the next one must link to it. */
interface SeenCheckpoint extends CheckpointLink {
  readonly v: 1 | 2;
  readonly timestamp: string;
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
  private lastCheckpoint: SeenCheckpoint | undefined;
  private sinceChecked = false;
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
    this.checkSinceSignature(lineNumber);
    if (this.problem !== undefined) return;
    if (value.type === 'event') return this.onEvent(lineNumber, value);
    return this.onCheckpoint(lineNumber, value);
  }

  /** Ends the bundle and reports. */
  finish(): VerificationReport {
    if (this.header !== undefined) this.checkSinceSignature(undefined);
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
      } else {
        this.checkSinceReached();
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
    let forms: SignedEventForms;
    try {
      forms = signedEventForms(record.envelope);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      return this.fail({
        line,
        seq,
        code: 'MALFORMED_LINE',
        message: `event ${seq} has no canonical JSON form`,
      });
    }
    const link = linkHashes(this.lastHash, forms.canonical);
    if (link.hash.toString('hex') !== record.hash) {
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
    const problem = this.checkEventSignature(record, forms.signed);
    if (problem !== undefined) return this.fail({ line, seq, ...problem });
    this.eventIds.add(event.id);
    this.lastHash = link.hash;
    this.frontier.append(link.leafHash);
    this.events = seq;
    this.checkSinceRoot(line);
    this.settlePending();
  }

  private checkEventSignature(
    record: BundleEvent,
    signed: Buffer,
  ): Omit<Problem, 'line' | 'seq'> | undefined {
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
    // The schema admits only Ed25519 signatures; the signed bytes were built with the hash input.
    const sig = fromBase64Url(signature.sig);
    if (sig !== undefined && ed25519Verify(signed, sig, key.publicKey)) return undefined;
    return {
      code: 'SIGNATURE_INVALID',
      message: `the signature of event ${record.seq} does not verify`,
    };
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
      const problem = this.linkProblem(checkpoint);
      if (problem !== undefined) return this.fail({ line, ...problem });
      this.lastCheckpoint = {
        ...linkTo(checkpoint, this.checkpoints + 1),
        v: checkpoint.v,
        timestamp: checkpoint.timestamp,
      };
      this.checkpoints += 1;
      this.checkSinceAt(line, signed);
    }
  }

  /**
   * Whether `checkpoint` is the next in the sequence: numbered one more than the last (a higher
   * number means one is missing), linked to it by number, size, root and digest, and not older.
   * A version 1 checkpoint links by size and root only, and none may follow a version 2 one.
   */
  private linkProblem(checkpoint: Checkpoint): Omit<Problem, 'line' | 'seq'> | undefined {
    const last = this.lastCheckpoint;
    const broken = {
      code: 'CHECKPOINT_CHAIN_BROKEN' as const,
      message: `checkpoint ${checkpoint.treeSize} does not follow the previous checkpoint`,
    };
    if (checkpoint.v === 1) {
      const previous = checkpoint.previous;
      const linked =
        previous === null
          ? last === undefined
          : last !== undefined &&
            last.v === 1 &&
            previous.treeSize === last.treeSize &&
            previous.rootHash === last.rootHash;
      return linked ? undefined : broken;
    }
    const expected = this.checkpoints + 1;
    if (checkpoint.index > expected) {
      return {
        code: 'CHECKPOINT_GAP',
        message: `checkpoint number ${expected} is missing (next is ${checkpoint.index})`,
      };
    }
    if (checkpoint.index < expected) {
      return {
        code: 'CHECKPOINT_OUT_OF_ORDER',
        message: `checkpoint number ${checkpoint.index} comes after number ${expected - 1}`,
      };
    }
    const previous = checkpoint.previous;
    const linked =
      previous === null
        ? last === undefined
        : last !== undefined &&
          previous.index === last.index &&
          previous.treeSize === last.treeSize &&
          previous.rootHash === last.rootHash &&
          previous.digest === last.digest;
    if (!linked) return broken;
    if (last !== undefined && Date.parse(checkpoint.timestamp) < Date.parse(last.timestamp)) {
      return {
        code: 'CHECKPOINT_OUT_OF_ORDER',
        message: `checkpoint number ${checkpoint.index} is dated before number ${last.index}`,
      };
    }
    return undefined;
  }

  /** The kept checkpoint (`since`) must be signed by a trusted audit key listed in the bundle. */
  private checkSinceSignature(line: number | undefined): void {
    const since = this.options.since;
    if (since === undefined || this.sinceChecked || this.problem !== undefined) return;
    this.sinceChecked = true;
    const at = line === undefined ? {} : { line };
    const { checkpoint, signature } = since;
    if (checkpoint.tenantId !== this.header!.tenantId) {
      return this.fail({
        ...at,
        code: 'SINCE_TENANT_MISMATCH',
        message: 'the kept checkpoint belongs to another tenant',
      });
    }
    const key = this.keys.get(signature.kid);
    if (key === undefined || key.line.service !== 'audit') {
      return this.fail({
        ...at,
        code: 'SINCE_KEY_UNKNOWN',
        message: `the kept checkpoint is signed by ${signature.kid}, which is not an audit key of the bundle`,
      });
    }
    if (
      this.options.trustedAuditKeys === undefined ||
      !this.options.trustedAuditKeys.has(key.fingerprint)
    ) {
      return this.fail({
        ...at,
        code: 'SINCE_KEY_NOT_TRUSTED',
        message: `the kept checkpoint is signed by ${key.fingerprint}, which is not a trusted audit key`,
      });
    }
    try {
      verifyJson(checkpoint, AUDIT_CHECKPOINT_PURPOSE, signature, () => key.publicKey);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      this.fail({
        ...at,
        code: 'SINCE_SIGNATURE_INVALID',
        message: 'the signature of the kept checkpoint does not verify',
      });
    }
  }

  /**
   * When the bundle reaches the kept checkpoint: its tree must be the kept one (same size, same
   * root and chain head), and its checkpoint of the same number must be the kept one itself.
   */
  private checkSinceAt(line: number, signed: BundleCheckpoint): void {
    const since = this.options.since?.checkpoint;
    if (since?.v !== 2 || signed.checkpoint.v !== 2 || signed.checkpoint.index !== since.index)
      return;
    if (linkTo(signed.checkpoint).digest !== linkTo(since).digest) {
      this.fail({
        line,
        code: 'CHECKPOINT_FORK',
        message: `the bundle's checkpoint number ${since.index} differs from the kept one: two signed versions of it exist`,
      });
    }
  }

  /** When the bundle reaches the kept checkpoint's size, its tree must be the kept one. */
  private checkSinceRoot(line: number): void {
    const since = this.options.since?.checkpoint;
    if (since === undefined || this.events !== since.treeSize) return;
    if (
      this.frontier.root().toString('hex') !== since.rootHash ||
      this.lastHash.toString('hex') !== since.chainHead
    ) {
      this.fail({
        line,
        seq: this.events,
        code: 'SINCE_NOT_EXTENDED',
        message: `the bundle's first ${since.treeSize} events do not hash to the kept checkpoint's root: history was rewritten (a fork)`,
      });
    }
  }

  /** At the end: the bundle must reach the kept checkpoint's tree (and its number). */
  private checkSinceReached(): void {
    const since = this.options.since?.checkpoint;
    if (since === undefined) return;
    if (this.events < since.treeSize) {
      return this.fail({
        code: 'SINCE_TRUNCATED',
        message: `the kept checkpoint covers ${since.treeSize} events but the bundle holds ${this.events}: events were removed`,
      });
    }
    if (since.v === 2 && this.checkpoints < since.index) {
      this.fail({
        code: 'SINCE_TRUNCATED',
        message: `the kept checkpoint is number ${since.index} but the bundle's sequence ends at ${this.checkpoints}`,
      });
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
