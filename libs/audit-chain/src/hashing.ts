import { createHash } from 'node:crypto';
import { canonicalJson, type JsonValue } from '@heroagent/crypto';

/** The `prev_hash` of a tenant's first event: 32 zero bytes. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** The exact bytes the chain and the Merkle tree cover: the RFC 8785 form of the signed envelope. */
export function canonicalEnvelope(envelope: JsonValue): Buffer {
  return Buffer.from(canonicalJson(envelope), 'utf8');
}

/** `hash = SHA-256(prev_hash ‖ canonical(envelope))`. */
export function chainHash(previous: Uint8Array, canonical: Uint8Array): Buffer {
  return createHash('sha256').update(previous).update(canonical).digest();
}

/** RFC 6962 leaf hash: `SHA-256(0x00 ‖ leaf)`. */
export function leafHash(canonical: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(canonical).digest();
}

/** RFC 6962 interior node hash: `SHA-256(0x01 ‖ left ‖ right)`. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** What a checkpoint's successor names it by: `SHA-256(canonical(checkpoint))`, the bytes its signature covers. */
export function checkpointDigest(checkpoint: JsonValue): Buffer {
  return createHash('sha256').update(canonicalJson(checkpoint), 'utf8').digest();
}

/** The root of the empty tree: `SHA-256("")`. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
