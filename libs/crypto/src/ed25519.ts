import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { canonicalJsonBytes, type JsonValue } from './canonical-json.js';
import { fromBase64Url, toBase64Url } from './encoding.js';
import { CryptoError } from './errors.js';

// DER prefixes that turn a raw 32-byte Ed25519 seed / public key into PKCS#8 / SPKI (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** An Ed25519 key pair and the id under which its public half is registered. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** The public half of a signing key, as a verifier's registry holds it. */
export interface VerificationKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
}

/** A detached signature over canonical JSON, naming the key that made it. */
export interface JsonSignature {
  readonly alg: 'Ed25519';
  readonly kid: string;
  /** base64url of the 64-byte Ed25519 signature. */
  readonly sig: string;
}

/** Returns the public key for a key id, or undefined when the id is unknown (or not valid now). */
export type VerificationKeyResolver = (kid: string) => KeyObject | undefined;

/** Generates a fresh Ed25519 signing key; its id defaults to the public key's fingerprint. */
export function generateSigningKey(kid?: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { kid: kid ?? ed25519Fingerprint(publicKey), privateKey, publicKey };
}

/** Rebuilds an Ed25519 signing key from its 32-byte seed (the RFC 8032 "secret key"). */
export function signingKeyFromSeed(seed: Uint8Array, kid?: string): SigningKey {
  if (seed.byteLength !== 32) throw new CryptoError('INVALID_KEY', 'an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  return { kid: kid ?? ed25519Fingerprint(publicKey), privateKey, publicKey };
}

/** Imports a raw 32-byte Ed25519 public key. */
export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.byteLength !== 32) {
    throw new CryptoError('INVALID_KEY', 'an Ed25519 public key is 32 bytes');
  }
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    throw new CryptoError('INVALID_KEY', 'not a valid Ed25519 public key');
  }
}

/** Exports the 32-byte seed of an Ed25519 private key. */
export function exportEd25519Seed(privateKey: KeyObject): Buffer {
  assertKeyType(privateKey, 'ed25519', 'private');
  return privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
}

/** Exports the raw 32 bytes of an Ed25519 public key. */
export function exportEd25519PublicKey(publicKey: KeyObject): Buffer {
  assertKeyType(publicKey, 'ed25519', 'public');
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

/** A stable, short name for a public key: `ed25519:` and 16 base64url chars of its SHA-256. */
export function ed25519Fingerprint(publicKey: KeyObject): string {
  const digest = createHash('sha256').update(exportEd25519PublicKey(publicKey)).digest();
  return `ed25519:${toBase64Url(digest).slice(0, 16)}`;
}

/** Signs raw bytes with Ed25519 (pure EdDSA, RFC 8032 §5.1). */
export function ed25519Sign(message: Uint8Array, privateKey: KeyObject): Buffer {
  assertKeyType(privateKey, 'ed25519', 'private');
  return sign(null, message, privateKey);
}

/** Verifies a raw Ed25519 signature; false for any mismatch, malformed signature or wrong key. */
export function ed25519Verify(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: KeyObject,
): boolean {
  assertKeyType(publicKey, 'ed25519', 'public');
  if (signature.byteLength !== 64) return false;
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * Signs a JSON payload for one purpose. The signed bytes are the RFC 8785 form of
 * `{ alg, kid, purpose, payload }`, so neither the key id nor the purpose can be swapped after
 * signing: a capability signature never verifies as an audit event, and vice versa.
 */
export function signJson(payload: JsonValue, purpose: string, key: SigningKey): JsonSignature {
  const message = signedBytes(payload, purpose, key.kid);
  return { alg: 'Ed25519', kid: key.kid, sig: toBase64Url(ed25519Sign(message, key.privateKey)) };
}

/**
 * Verifies a {@link signJson} signature; throws `UNKNOWN_KEY` when the resolver does not know the
 * key id and `SIGNATURE_INVALID` for any other mismatch.
 */
export function verifyJson(
  payload: JsonValue,
  purpose: string,
  signature: JsonSignature,
  resolveKey: VerificationKeyResolver,
): void {
  if (signature.alg !== 'Ed25519') {
    throw new CryptoError('SIGNATURE_INVALID', `unsupported signature algorithm`);
  }
  const publicKey = resolveKey(signature.kid);
  if (publicKey === undefined) {
    throw new CryptoError('UNKNOWN_KEY', `no verification key with id ${signature.kid}`);
  }
  const sig = fromBase64Url(signature.sig);
  const message = signedBytes(payload, purpose, signature.kid);
  if (sig === undefined || !ed25519Verify(message, sig, publicKey)) {
    throw new CryptoError('SIGNATURE_INVALID', `signature by ${signature.kid} does not verify`);
  }
}

function signedBytes(payload: JsonValue, purpose: string, kid: string): Buffer {
  if (purpose.length === 0) throw new CryptoError('INVALID_KEY', 'a signature needs a purpose');
  return canonicalJsonBytes({ alg: 'Ed25519', kid, purpose, payload });
}

/** Throws `INVALID_KEY` unless `key` is of the asymmetric type and kind expected. */
export function assertKeyType(
  key: KeyObject,
  type: 'ed25519' | 'x25519',
  kind: 'private' | 'public',
): void {
  if (key.asymmetricKeyType !== type || key.type !== kind) {
    throw new CryptoError('INVALID_KEY', `expected an ${type} ${kind} key`);
  }
}
