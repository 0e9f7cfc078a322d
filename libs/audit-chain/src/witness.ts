import type { KeyObject } from 'node:crypto';
import {
  AUDIT_CHECKPOINT_PURPOSE,
  consistencyAnswerSchema,
  signedCheckpointSchema,
  type Checkpoint,
  type CheckpointV2,
  type ConsistencyAnswer,
  type SignedCheckpoint,
} from '@heroagent/contracts';
import {
  CryptoError,
  ed25519Fingerprint,
  ed25519PublicKeyFromRaw,
  fromBase64Url,
  verifyJson,
} from '@heroagent/crypto';
import { verifyConsistency } from './merkle.js';
import { Refusal, SequenceWalker, type WitnessProblemCode } from './witness-sequence.js';

export type { WitnessProblemCode } from './witness-sequence.js';

/** What checking a consistency answer against a kept checkpoint found. */
export interface WitnessReport {
  readonly ok: boolean;
  /** The kept checkpoint's tree size and number. */
  readonly from: { readonly treeSize: number; readonly index: number | null };
  /** The answer's latest checkpoint, when it could be read. */
  readonly to?: { readonly treeSize: number; readonly index: number | null };
  /** Checkpoints whose links were followed from the kept one to the latest. */
  readonly linked: number;
  readonly firstProblem?: { readonly code: WitnessProblemCode; readonly message: string };
}

/**
 * A checkpoint a witness kept, as the file holds it: a signed checkpoint (`{checkpoint,
 * signature}`, the body of its SIEM log record), a webhook's body, or a bundle's checkpoint line.
 * Throws a message naming what is wrong.
 */
export function parseKeptCheckpoint(text: string): SignedCheckpoint {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
  if (typeof json === 'object' && json !== null && 'type' in json) {
    const { type, ...rest } = json as Record<string, unknown>;
    if (type === 'checkpoint') json = rest;
    // A webhook's body: the signed checkpoint, with the destination it was sent to.
    if (type === 'heroagent.audit.checkpoint')
      json = { checkpoint: rest.checkpoint, signature: rest.signature };
  }
  const parsed = signedCheckpointSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `not a signed checkpoint: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  return parsed.data;
}

const numberOf = (checkpoint: Checkpoint) => (checkpoint.v === 2 ? checkpoint.index : null);

/** How far a witness pages, and how old a latest checkpoint it accepts. */
export interface WitnessOptions {
  /** The most pages of checkpoints fetched before the server is deemed never to end. */
  readonly maxPages: number;
  /** The oldest the latest checkpoint may be (they are signed at least hourly), and now. */
  readonly freshness?: { readonly maxAgeMs: number; readonly now: Date };
}

/**
 * Where a consistency answer's further pages come from: the answer again, with its sequence
 * starting at checkpoint number `sequenceFrom`; undefined when no further page can be had.
 */
export type NextConsistencyPage = (sequenceFrom: number) => Promise<unknown>;

/**
 * Checks, as a witness, an answer of `GET /v1/integrity/consistency?from=<kept size>` against a
 * checkpoint kept earlier, trusting only audit keys whose fingerprints are pinned: every
 * checkpoint's signature; that the latest is not smaller than the kept one; the RFC 9162
 * consistency proof from the kept root to the latest root; that the server's own checkpoint of
 * the kept size has the kept root and its checkpoint of the kept number is the kept one (else two
 * signed histories exist: a fork); that the checkpoints from the kept one to the latest are
 * numbered without a gap, each linked to the one before by digest, fetching further pages
 * (`next`) while the server says the sequence is incomplete, at most `maxPages`; and that the
 * latest checkpoint is fresh (a server cannot freeze the witness's view at an old one).
 */
export async function checkConsistency(
  kept: SignedCheckpoint,
  answer: unknown,
  next: NextConsistencyPage,
  trustedAuditKeys: ReadonlySet<string>,
  options: WitnessOptions,
): Promise<WitnessReport> {
  const from = { treeSize: kept.checkpoint.treeSize, index: numberOf(kept.checkpoint) };
  let to: WitnessReport['to'];
  let walker: SequenceWalker | undefined;
  try {
    let page = parseAnswer(answer);
    to = { treeSize: page.second.checkpoint.treeSize, index: numberOf(page.second.checkpoint) };
    checkSignature(
      kept,
      trustedKeys(page, trustedAuditKeys),
      'SINCE_KEY_NOT_TRUSTED',
      'SINCE_SIGNATURE_INVALID',
      'the kept checkpoint',
    );
    checkPage(kept.checkpoint, page, trustedAuditKeys);
    // A version 1 checkpoint has no number: the proof is all that can be checked from it.
    if (kept.checkpoint.v === 2 && page.second.checkpoint.v === 2) {
      walker = new SequenceWalker(kept.checkpoint);
      walker.start(page.sequence);
      for (let pages = 1; !page.sequenceComplete; pages += 1) {
        if (pages >= options.maxPages) {
          throw new Refusal(
            'SEQUENCE_UNENDING',
            `the server's checkpoints did not end within ${options.maxPages} pages`,
          );
        }
        const more = await next(walker.last);
        if (more === undefined) {
          throw new Refusal(
            'SEQUENCE_INCOMPLETE',
            `the server listed checkpoints through number ${walker.last} only: fetch the rest from the gateway, or verify an export with --since`,
          );
        }
        page = parseAnswer(more);
        to = { treeSize: page.second.checkpoint.treeSize, index: numberOf(page.second.checkpoint) };
        checkPage(kept.checkpoint, page, trustedAuditKeys);
        walker.continue(page.sequence, page.sequenceComplete);
      }
      walker.finish(page.second.checkpoint as CheckpointV2);
    }
    if (options.freshness !== undefined) checkFresh(page.second.checkpoint, options.freshness);
    return { ok: true, from, to, linked: walker?.linked ?? 0 };
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return {
      ok: false,
      from,
      ...(to === undefined ? {} : { to }),
      linked: walker?.linked ?? 0,
      firstProblem: { code: error.code, message: error.message },
    };
  }
}

function parseAnswer(answer: unknown): ConsistencyAnswer {
  const parsed = consistencyAnswerSchema.safeParse(answer);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Refusal(
      'MALFORMED_ANSWER',
      `not a consistency answer: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  return parsed.data;
}

/** The answer's keys whose fingerprints the witness pinned, by key id. */
function trustedKeys(
  page: ConsistencyAnswer,
  trustedAuditKeys: ReadonlySet<string>,
): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const key of page.auditKeys) {
    const raw = fromBase64Url(key.publicKey);
    if (raw === undefined || raw.length !== 32) continue;
    const publicKey = ed25519PublicKeyFromRaw(raw);
    if (trustedAuditKeys.has(ed25519Fingerprint(publicKey))) keys.set(key.kid, publicKey);
  }
  return keys;
}

/** Every checkpoint of one page signed by a pinned key, of the kept tenant; its proof holds. */
function checkPage(
  kept: Checkpoint,
  page: ConsistencyAnswer,
  trustedAuditKeys: ReadonlySet<string>,
): void {
  const keys = trustedKeys(page, trustedAuditKeys);
  const { first, second, proof, sequence } = page;
  for (const signed of [second, ...(first === null ? [] : [first]), ...sequence]) {
    const name = `checkpoint ${numberOf(signed.checkpoint) ?? signed.checkpoint.treeSize}`;
    checkSignature(signed, keys, 'AUDIT_KEY_NOT_TRUSTED', 'CHECKPOINT_SIGNATURE_INVALID', name);
    if (signed.checkpoint.tenantId !== kept.tenantId)
      throw new Refusal('TENANT_MISMATCH', `${name} belongs to another tenant`);
  }
  checkExtension(kept, first?.checkpoint ?? null, second.checkpoint, proof);
}

/** The latest checkpoint is no older than the bound: else the view may be frozen in the past. */
function checkFresh(latest: Checkpoint, freshness: NonNullable<WitnessOptions['freshness']>) {
  const ageMs = freshness.now.getTime() - Date.parse(latest.timestamp);
  if (ageMs > freshness.maxAgeMs) {
    throw new Refusal(
      'LATEST_CHECKPOINT_STALE',
      `the latest checkpoint the server gave (number ${numberOf(latest) ?? '-'}, signed ${latest.timestamp}) is ${Math.floor(ageMs / 60_000)} minutes old, more than the ${Math.floor(freshness.maxAgeMs / 60_000)} allowed: checkpoints are signed at least hourly, so the server may be showing an old view`,
    );
  }
}

function checkSignature(
  signed: SignedCheckpoint,
  keys: ReadonlyMap<string, KeyObject>,
  untrusted: WitnessProblemCode,
  invalid: WitnessProblemCode,
  name: string,
): void {
  const key = keys.get(signed.signature.kid);
  if (key === undefined)
    throw new Refusal(
      untrusted,
      `${name} is signed by ${signed.signature.kid}, not a trusted audit key`,
    );
  try {
    verifyJson(signed.checkpoint, AUDIT_CHECKPOINT_PURPOSE, signed.signature, () => key);
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    throw new Refusal(invalid, `the signature of ${name} does not verify`);
  }
}

/** The latest tree extends the kept one, and the server's checkpoint of the kept size agrees. */
function checkExtension(
  kept: Checkpoint,
  first: Checkpoint | null,
  second: Checkpoint,
  proof: readonly string[],
): void {
  if (second.treeSize < kept.treeSize || (numberOf(second) ?? 0) < (numberOf(kept) ?? 0)) {
    throw new Refusal(
      'SINCE_TRUNCATED',
      `the latest checkpoint (${second.treeSize} events, number ${numberOf(second) ?? '-'}) is behind the kept one (${kept.treeSize} events, number ${numberOf(kept) ?? '-'}): the record was cut back`,
    );
  }
  if (first !== null && (first.treeSize !== kept.treeSize || first.rootHash !== kept.rootHash)) {
    throw new Refusal(
      'SINCE_NOT_EXTENDED',
      `the server signed another root for ${kept.treeSize} events than the kept checkpoint: two histories (a fork)`,
    );
  }
  const valid = verifyConsistency(
    kept.treeSize,
    second.treeSize,
    Buffer.from(kept.rootHash, 'hex'),
    Buffer.from(second.rootHash, 'hex'),
    proof.map((hash) => Buffer.from(hash, 'hex')),
  );
  if (!valid) {
    throw new Refusal(
      'CONSISTENCY_PROOF_INVALID',
      `the proof does not show the tree of ${second.treeSize} events extends the kept tree of ${kept.treeSize}: a lying proof or a rewritten history`,
    );
  }
}
