import type { KeyObject } from 'node:crypto';
import {
  AUDIT_CHECKPOINT_PURPOSE,
  consistencyAnswerSchema,
  signedCheckpointSchema,
  type Checkpoint,
  type SignedCheckpoint,
} from '@heroagent/contracts';
import {
  CryptoError,
  ed25519Fingerprint,
  ed25519PublicKeyFromRaw,
  fromBase64Url,
  verifyJson,
} from '@heroagent/crypto';
import { linkTo } from './chain.js';
import { verifyConsistency } from './merkle.js';

/** Why a consistency answer does not prove the record extends a kept checkpoint. */
export type WitnessProblemCode =
  | 'MALFORMED_ANSWER'
  | 'TENANT_MISMATCH'
  | 'SINCE_KEY_NOT_TRUSTED'
  | 'SINCE_SIGNATURE_INVALID'
  | 'AUDIT_KEY_NOT_TRUSTED'
  | 'CHECKPOINT_SIGNATURE_INVALID'
  | 'SINCE_TRUNCATED'
  | 'SINCE_NOT_EXTENDED'
  | 'CONSISTENCY_PROOF_INVALID'
  | 'CHECKPOINT_FORK'
  | 'CHECKPOINT_GAP'
  | 'CHECKPOINT_CHAIN_BROKEN'
  | 'CHECKPOINT_OUT_OF_ORDER'
  | 'SEQUENCE_INCOMPLETE';

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

class Refusal extends Error {
  constructor(
    readonly code: WitnessProblemCode,
    message: string,
  ) {
    super(message);
  }
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

/**
 * Checks, as a witness, an answer of `GET /v1/integrity/consistency?from=<kept size>` against a
 * checkpoint kept earlier, trusting only audit keys whose fingerprints are pinned: every
 * checkpoint's signature; that the latest is not smaller than the kept one; the RFC 9162
 * consistency proof from the kept root to the latest root; that the server's own checkpoint of
 * the kept size has the kept root and its checkpoint of the kept number is the kept one (else two
 * signed histories exist: a fork); and that the checkpoints from the kept one to the latest are
 * numbered without a gap, each linked to the one before by digest.
 */
export function checkConsistencyAnswer(
  kept: SignedCheckpoint,
  answer: unknown,
  trustedAuditKeys: ReadonlySet<string>,
): WitnessReport {
  const from = { treeSize: kept.checkpoint.treeSize, index: numberOf(kept.checkpoint) };
  let to: WitnessReport['to'];
  let linked = 0;
  try {
    const parsed = consistencyAnswerSchema.safeParse(answer);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Refusal(
        'MALFORMED_ANSWER',
        `not a consistency answer: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      );
    }
    const { first, second, proof, sequence, sequenceComplete, auditKeys } = parsed.data;
    to = { treeSize: second.checkpoint.treeSize, index: numberOf(second.checkpoint) };
    const keys = new Map<string, KeyObject>();
    for (const key of auditKeys) {
      const raw = fromBase64Url(key.publicKey);
      if (raw === undefined || raw.length !== 32) continue;
      const publicKey = ed25519PublicKeyFromRaw(raw);
      if (trustedAuditKeys.has(ed25519Fingerprint(publicKey))) keys.set(key.kid, publicKey);
    }
    checkSignature(
      kept,
      keys,
      'SINCE_KEY_NOT_TRUSTED',
      'SINCE_SIGNATURE_INVALID',
      'the kept checkpoint',
    );
    const tenantId = kept.checkpoint.tenantId;
    for (const signed of [second, ...(first === null ? [] : [first]), ...sequence]) {
      const name = `checkpoint ${numberOf(signed.checkpoint) ?? signed.checkpoint.treeSize}`;
      checkSignature(signed, keys, 'AUDIT_KEY_NOT_TRUSTED', 'CHECKPOINT_SIGNATURE_INVALID', name);
      if (signed.checkpoint.tenantId !== tenantId)
        throw new Refusal('TENANT_MISMATCH', `${name} belongs to another tenant`);
    }
    checkExtension(kept.checkpoint, first?.checkpoint ?? null, second.checkpoint, proof);
    linked = checkSequence(kept.checkpoint, second.checkpoint, sequence, sequenceComplete);
    return { ok: true, from, to, linked };
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return {
      ok: false,
      from,
      ...(to === undefined ? {} : { to }),
      linked,
      firstProblem: { code: error.code, message: error.message },
    };
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

/** Follows the numbered checkpoints from the kept one to the latest; returns how many it linked. */
function checkSequence(
  kept: Checkpoint,
  second: Checkpoint,
  sequence: readonly SignedCheckpoint[],
  complete: boolean,
): number {
  // A version 1 checkpoint has no number: the proof above is all that can be checked from it.
  if (kept.v !== 2 || second.v !== 2) return 0;
  const start = sequence.findIndex(({ checkpoint }) => numberOf(checkpoint) === kept.index);
  if (start === -1) {
    throw new Refusal(
      'CHECKPOINT_GAP',
      `the server's checkpoints do not include number ${kept.index}, the kept one`,
    );
  }
  let previous = sequence[start]!.checkpoint;
  if (linkTo(previous).digest !== linkTo(kept).digest) {
    throw new Refusal(
      'CHECKPOINT_FORK',
      `the server's checkpoint number ${kept.index} differs from the kept one: two signed versions of it exist`,
    );
  }
  let linked = 0;
  for (const { checkpoint } of sequence.slice(start + 1)) {
    const expected = (numberOf(previous) ?? 0) + 1;
    if (checkpoint.v !== 2 || checkpoint.index > expected)
      throw new Refusal('CHECKPOINT_GAP', `checkpoint number ${expected} is missing`);
    if (checkpoint.index < expected)
      throw new Refusal(
        'CHECKPOINT_OUT_OF_ORDER',
        `checkpoint number ${checkpoint.index} is out of order`,
      );
    const link = linkTo(previous);
    const { previous: named } = checkpoint;
    if (
      named === null ||
      named.index !== link.index ||
      named.treeSize !== link.treeSize ||
      named.rootHash !== link.rootHash ||
      named.digest !== link.digest
    ) {
      throw new Refusal(
        'CHECKPOINT_CHAIN_BROKEN',
        `checkpoint number ${checkpoint.index} does not link to number ${link.index}`,
      );
    }
    if (
      checkpoint.treeSize < previous.treeSize ||
      Date.parse(checkpoint.timestamp) < Date.parse(previous.timestamp)
    ) {
      throw new Refusal(
        'CHECKPOINT_OUT_OF_ORDER',
        `checkpoint number ${checkpoint.index} is smaller or older than number ${link.index}`,
      );
    }
    previous = checkpoint;
    linked += 1;
  }
  if (!complete) {
    throw new Refusal(
      'SEQUENCE_INCOMPLETE',
      `the server listed checkpoints through number ${numberOf(previous)} only: verify an export with --since instead`,
    );
  }
  if (linkTo(previous).digest !== linkTo(second).digest) {
    throw new Refusal(
      'CHECKPOINT_CHAIN_BROKEN',
      `the checkpoints end at number ${numberOf(previous)}, not at the latest (number ${second.index})`,
    );
  }
  return linked;
}
