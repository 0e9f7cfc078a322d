import { hash } from 'node:crypto';
import { AUDIT_EVENT_PURPOSE, type SignedAuditEvent } from '@heroagent/contracts';
import { canonicalJson, type JsonValue } from '@heroagent/crypto';

/** The `prev_hash` of a tenant's first event: 32 zero bytes. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** The exact bytes the chain and the Merkle tree cover: the RFC 8785 form of the signed envelope. */
export function canonicalEnvelope(envelope: JsonValue): Buffer {
  return Buffer.from(canonicalJson(envelope), 'utf8');
}

/** What audit hashes and verifies of one signed event (see {@link signedEventForms}). */
export interface SignedEventForms {
  /** `canonicalJson({ event, signature })`: what the chain and the Merkle tree cover. */
  readonly canonical: string;
  /** What the producer's `signJson(event, AUDIT_EVENT_PURPOSE)` signed. */
  readonly signed: Buffer;
}

const PURPOSE_JSON = canonicalJson(AUDIT_EVENT_PURPOSE);

/**
 * Both forms of a signed event with the event canonicalised once (it is most of the bytes): the
 * signed bytes are the RFC 8785 form of `{ alg, kid, payload, purpose }` and the envelope's is
 * `{ event, signature }`, keys in that (sorted) order, each embedding the same canonical event.
 */
export function signedEventForms(envelope: SignedAuditEvent): SignedEventForms {
  const { event, signature } = envelope;
  const payload = canonicalJson(event);
  return {
    canonical: `{"event":${payload},"signature":${canonicalJson(signature)}}`,
    signed: Buffer.from(
      `{"alg":"Ed25519","kid":${canonicalJson(signature.kid)},"payload":${payload},"purpose":${PURPOSE_JSON}}`,
      'utf8',
    ),
  };
}

/** `hash = SHA-256(prev_hash ‖ canonical(envelope))`. */
export function chainHash(previous: Uint8Array, canonical: Uint8Array): Buffer {
  return sha256(previous, canonical);
}

/** RFC 6962 leaf hash: `SHA-256(0x00 ‖ leaf)`. */
export function leafHash(canonical: Uint8Array): Buffer {
  return sha256(LEAF_PREFIX, canonical);
}

/** RFC 6962 interior node hash: `SHA-256(0x01 ‖ left ‖ right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const joined = Buffer.allocUnsafe(1 + left.byteLength + right.byteLength);
  joined[0] = 0x01;
  joined.set(left, 1);
  joined.set(right, 1 + left.byteLength);
  return hash('sha256', joined, 'buffer');
}

/**
 * The chain hash and the leaf hash of an event appended after `previous`, from its canonical
 * envelope encoded once: `SHA-256(prev_hash ‖ canonical)` and `SHA-256(0x00 ‖ canonical)`.
 */
export function linkHashes(
  previous: Uint8Array,
  canonical: string,
): { readonly hash: Buffer; readonly leafHash: Buffer } {
  if (previous.byteLength !== 32) throw new Error('a previous chain hash is 32 bytes');
  const bytes = Buffer.allocUnsafe(previous.byteLength + Buffer.byteLength(canonical, 'utf8'));
  bytes.set(previous, 0);
  bytes.write(canonical, previous.byteLength, 'utf8');
  const chained = hash('sha256', bytes, 'buffer');
  // The byte before the canonical envelope becomes the leaf prefix (the previous hash is spent).
  const start = previous.byteLength - 1;
  bytes[start] = 0x00;
  return { hash: chained, leafHash: hash('sha256', bytes.subarray(start), 'buffer') };
}

/** What a checkpoint's successor names it by: `SHA-256(canonical(checkpoint))`, the bytes its signature covers. */
export function checkpointDigest(checkpoint: JsonValue): Buffer {
  return hash('sha256', Buffer.from(canonicalJson(checkpoint), 'utf8'), 'buffer');
}

/** The root of the empty tree: `SHA-256("")`. */
export const EMPTY_ROOT: Buffer = hash('sha256', Buffer.alloc(0), 'buffer');

const LEAF_PREFIX = Buffer.from([0x00]);

/** One-shot SHA-256 of two parts (cheaper than a streaming hash object for short inputs). */
function sha256(first: Uint8Array, second: Uint8Array): Buffer {
  const joined = Buffer.allocUnsafe(first.byteLength + second.byteLength);
  joined.set(first, 0);
  joined.set(second, first.byteLength);
  return hash('sha256', joined, 'buffer');
}
