import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { canonicalJsonBytes } from './canonical-json.js';
import { assertKeyType } from './ed25519.js';
import { fromBase64Url, toBase64Url } from './encoding.js';
import { CryptoError } from './errors.js';

const ALG = 'X25519-HKDF-SHA256-A256GCM';
const HKDF_INFO = Buffer.from('heroagent/sealed-box/v1', 'utf8');
// DER prefixes for raw X25519 keys (RFC 8410).
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** An X25519 key pair that sealed boxes are addressed to. */
export interface SealingKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Who sealed a box, for whom, and why. All three are authenticated, none is secret. */
export interface SealContext {
  readonly sender: string;
  readonly recipient: string;
  readonly purpose: string;
}

/**
 * A value encrypted to one recipient's X25519 public key: an ephemeral key agreement, HKDF-SHA-256
 * to an AES-256-GCM key, and the context bound as associated data.
 */
export interface SealedBox {
  readonly v: 1;
  readonly alg: typeof ALG;
  /** base64url ephemeral X25519 public key. */
  readonly epk: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

/** Generates an X25519 key pair for receiving sealed boxes. */
export function generateSealingKey(): SealingKey {
  return generateKeyPairSync('x25519');
}

/** Rebuilds an X25519 key pair from its raw 32-byte private key. */
export function sealingKeyFromRaw(raw: Uint8Array): SealingKey {
  if (raw.byteLength !== 32) throw new CryptoError('INVALID_KEY', 'an X25519 key is 32 bytes');
  const privateKey = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Imports a raw 32-byte X25519 public key. */
export function x25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.byteLength !== 32) throw new CryptoError('INVALID_KEY', 'an X25519 key is 32 bytes');
  return createPublicKey({
    key: Buffer.concat([X25519_SPKI_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
}

/** Exports the raw 32 bytes of an X25519 private key. */
export function exportX25519PrivateKey(privateKey: KeyObject): Buffer {
  assertKeyType(privateKey, 'x25519', 'private');
  return privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(X25519_PKCS8_PREFIX.length);
}

/** Exports the raw 32 bytes of an X25519 public key. */
export function exportX25519PublicKey(publicKey: KeyObject): Buffer {
  assertKeyType(publicKey, 'x25519', 'public');
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI_PREFIX.length);
}

/** The raw X25519 shared secret; refuses the all-zero result of a low-order public key. */
export function x25519SharedSecret(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  assertKeyType(privateKey, 'x25519', 'private');
  assertKeyType(publicKey, 'x25519', 'public');
  let secret: Buffer;
  try {
    secret = diffieHellman({ privateKey, publicKey });
  } catch {
    throw new CryptoError('INVALID_KEY', 'X25519 key agreement failed');
  }
  if (secret.every((byte) => byte === 0)) {
    throw new CryptoError('INVALID_KEY', 'X25519 key agreement with a low-order point');
  }
  return secret;
}

/** Seals `plaintext` so that only the holder of the recipient's private key can open it. */
export function seal(
  plaintext: Uint8Array,
  recipientPublicKey: KeyObject,
  context: SealContext,
): SealedBox {
  const ephemeral = generateKeyPairSync('x25519');
  const epk = exportX25519PublicKey(ephemeral.publicKey);
  const key = deriveKey(
    x25519SharedSecret(ephemeral.privateKey, recipientPublicKey),
    epk,
    recipientPublicKey,
  );
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associatedData(toBase64Url(epk), context));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    v: 1,
    alg: ALG,
    epk: toBase64Url(epk),
    iv: toBase64Url(iv),
    ct: toBase64Url(ct),
    tag: toBase64Url(cipher.getAuthTag()),
  };
}

/**
 * Opens a sealed box. Throws `DECRYPTION_FAILED` for a wrong key, a changed byte, or a sender,
 * recipient or purpose other than the one it was sealed with.
 */
export function open(box: SealedBox, recipient: SealingKey, context: SealContext): Buffer {
  if (box.v !== 1 || box.alg !== ALG) {
    throw new CryptoError('MALFORMED_CIPHERTEXT', 'unsupported sealed box version');
  }
  const epk = fromBase64Url(box.epk);
  const iv = fromBase64Url(box.iv);
  const ct = fromBase64Url(box.ct);
  const tag = fromBase64Url(box.tag);
  if (epk?.length !== 32 || iv?.length !== 12 || ct === undefined || tag?.length !== 16) {
    throw new CryptoError('MALFORMED_CIPHERTEXT', 'sealed box fields are malformed');
  }
  let ephemeralPublicKey: KeyObject;
  try {
    ephemeralPublicKey = x25519PublicKeyFromRaw(epk);
  } catch {
    throw new CryptoError('DECRYPTION_FAILED', 'sealed box does not open');
  }
  try {
    const secret = x25519SharedSecret(recipient.privateKey, ephemeralPublicKey);
    const key = deriveKey(secret, epk, recipient.publicKey);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(associatedData(box.epk, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new CryptoError('DECRYPTION_FAILED', 'sealed box does not open');
  }
}

function deriveKey(secret: Buffer, epk: Buffer, recipientPublicKey: KeyObject): Buffer {
  const salt = Buffer.concat([epk, exportX25519PublicKey(recipientPublicKey)]);
  return Buffer.from(hkdfSync('sha256', secret, salt, HKDF_INFO, 32));
}

function associatedData(epk: string, context: SealContext): Buffer {
  return canonicalJsonBytes({
    alg: ALG,
    v: 1,
    epk,
    sender: context.sender,
    recipient: context.recipient,
    purpose: context.purpose,
  });
}
