import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { fromBase64Url, toBase64Url } from './encoding.js';
import { CryptoError } from './errors.js';

/**
 * Versioned AES-256 keys: new values are encrypted under `currentVersion`; older versions stay
 * to decrypt (and rewrap) what they encrypted until it has been rotated away.
 */
export interface KeyRing {
  readonly currentVersion: number;
  readonly keys: ReadonlyMap<number, Uint8Array>;
}

const DATA_PREFIX = 'hae1';
const WRAP_PREFIX = 'hak1';

/** A fresh random 256-bit data key. */
export function generateDataKey(): Buffer {
  return randomBytes(32);
}

/** Builds a key ring, checking that every key is 256 bits and the current version exists. */
export function keyRing(keys: ReadonlyMap<number, Uint8Array>, currentVersion?: number): KeyRing {
  const versions = [...keys.keys()];
  if (versions.length === 0) throw new CryptoError('INVALID_KEY', 'a key ring needs a key');
  for (const [version, key] of keys) {
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new CryptoError('INVALID_KEY', 'key versions are positive integers');
    }
    if (key.byteLength !== 32) throw new CryptoError('INVALID_KEY', 'ring keys are 32 bytes');
  }
  const current = currentVersion ?? Math.max(...versions);
  if (!keys.has(current)) throw new CryptoError('INVALID_KEY', `no key with version ${current}`);
  return { currentVersion: current, keys };
}

/**
 * Encrypts a value under the ring's current data key. `context` (e.g. tenant, table, column and
 * row id) is authenticated, so a ciphertext copied to another row or tenant does not decrypt.
 * The result is `hae1.<version>.<iv>.<ciphertext>.<tag>`.
 */
export function encryptValue(plaintext: Uint8Array, ring: KeyRing, context: string): string {
  return aeadSeal(DATA_PREFIX, ring, plaintext, context);
}

/** Decrypts an {@link encryptValue} result with whichever ring version encrypted it. */
export function decryptValue(ciphertext: string, ring: KeyRing, context: string): Buffer {
  return aeadOpen(DATA_PREFIX, ring, ciphertext, context);
}

/** Wraps a data key under the current key-encryption key of `kekRing` (the embedded key store). */
export function wrapDataKey(dataKey: Uint8Array, kekRing: KeyRing, context: string): string {
  if (dataKey.byteLength !== 32) throw new CryptoError('INVALID_KEY', 'data keys are 32 bytes');
  return aeadSeal(WRAP_PREFIX, kekRing, dataKey, context);
}

/** Unwraps a data key wrapped by {@link wrapDataKey}. */
export function unwrapDataKey(wrapped: string, kekRing: KeyRing, context: string): Buffer {
  return aeadOpen(WRAP_PREFIX, kekRing, wrapped, context);
}

/** The key version a ciphertext or wrapped key was made with (to find what needs rewrapping). */
export function ciphertextKeyVersion(ciphertext: string): number {
  return parse(ciphertext.split('.')[0] ?? '', ciphertext).version;
}

/** Re-encrypts under the ring's current version; a value already current is returned unchanged. */
export function rewrapValue(ciphertext: string, ring: KeyRing, context: string): string {
  const { prefix, version } = parse(ciphertext.split('.')[0] ?? '', ciphertext);
  if (version === ring.currentVersion) return ciphertext;
  return aeadSeal(prefix, ring, aeadOpen(prefix, ring, ciphertext, context), context);
}

const DIGEST_INFO = 'heroagent/keyed-digest/v1';

/**
 * A keyed digest of `data` in `context`: HMAC-SHA-256 under a key derived (HKDF) from the ring's
 * current data key, so equal values give equal digests under one key, while whoever lacks the key
 * cannot confirm a guess of a small value (as they could against a plain hash). The result is the
 * key version (4 bytes, big-endian) and the 32-byte MAC.
 */
export function keyedDigest(data: Uint8Array, ring: KeyRing, context: string): Buffer {
  const key = ring.keys.get(ring.currentVersion);
  if (key === undefined) throw new CryptoError('INVALID_KEY', 'the current key is missing');
  const version = Buffer.alloc(4);
  version.writeUInt32BE(ring.currentVersion);
  return Buffer.concat([version, mac(key, ring.currentVersion, data, context)]);
}

/** The key version a {@link keyedDigest} was made with. */
export function keyedDigestVersion(digest: Uint8Array): number {
  if (digest.byteLength !== 36) {
    throw new CryptoError('MALFORMED_CIPHERTEXT', 'not a HeroAgent keyed digest');
  }
  return Buffer.from(digest).readUInt32BE(0);
}

/** Whether `digest` is the {@link keyedDigest} of `data` in `context` (in constant time). */
export function keyedDigestMatches(
  digest: Uint8Array,
  data: Uint8Array,
  ring: KeyRing,
  context: string,
): boolean {
  const version = keyedDigestVersion(digest);
  const key = ring.keys.get(version);
  if (key === undefined) {
    throw new CryptoError('DECRYPTION_FAILED', `no key with version ${version} in the ring`);
  }
  return timingSafeEqual(Buffer.from(digest).subarray(4), mac(key, version, data, context));
}

// What is made from a key once and reused while the key is held (by its ring): building a cipher
// from raw bytes, deriving the digest key and drawing a few random bytes each cost tens of µs
// under OpenSSL 3, where the encryption itself of a small value costs a few.
const secretKeys = new WeakMap<Uint8Array, KeyObject>();
const digestKeys = new WeakMap<Uint8Array, KeyObject>();

function secretKey(key: Uint8Array): KeyObject {
  let made = secretKeys.get(key);
  if (made === undefined) {
    made = createSecretKey(key);
    secretKeys.set(key, made);
  }
  return made;
}

function digestKey(key: Uint8Array): KeyObject {
  let made = digestKeys.get(key);
  if (made === undefined) {
    made = createSecretKey(Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), DIGEST_INFO, 32)));
    digestKeys.set(key, made);
  }
  return made;
}

// IVs are drawn from the CSPRNG a page at a time; each 12 bytes are handed out once.
const ivPool = Buffer.alloc(4096);
let ivOffset = ivPool.length;

function freshIv(): Buffer {
  if (ivOffset + 12 > ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + 12));
  ivOffset += 12;
  return iv;
}

function mac(key: Uint8Array, version: number, data: Uint8Array, context: string): Buffer {
  return createHmac('sha256', digestKey(key))
    .update(associatedData('had1', version, context))
    .update(data)
    .digest();
}

function aeadSeal(prefix: string, ring: KeyRing, plaintext: Uint8Array, context: string): string {
  const key = ring.keys.get(ring.currentVersion);
  if (key === undefined) throw new CryptoError('INVALID_KEY', 'the current key is missing');
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', secretKey(key), iv);
  cipher.setAAD(associatedData(prefix, ring.currentVersion, context));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [prefix, ring.currentVersion, toBase64Url(iv), toBase64Url(ct), toBase64Url(tag)].join(
    '.',
  );
}

function aeadOpen(prefix: string, ring: KeyRing, text: string, context: string): Buffer {
  const { version, iv, ct, tag } = parse(prefix, text);
  const key = ring.keys.get(version);
  if (key === undefined) {
    throw new CryptoError('DECRYPTION_FAILED', `no key with version ${version} in the ring`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', secretKey(key), iv);
    decipher.setAAD(associatedData(prefix, version, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new CryptoError('DECRYPTION_FAILED', 'ciphertext does not decrypt');
  }
}

interface ParsedCiphertext {
  prefix: string;
  version: number;
  iv: Buffer;
  ct: Buffer;
  tag: Buffer;
}

function parse(expectedPrefix: string, text: string): ParsedCiphertext {
  const parts = text.split('.');
  const [prefix, versionText, ivText, ctText, tagText] = parts;
  const iv = fromBase64Url(ivText ?? '');
  const ct = fromBase64Url(ctText ?? '');
  const tag = fromBase64Url(tagText ?? '');
  const version = Number(versionText);
  if (
    parts.length !== 5 ||
    (prefix !== DATA_PREFIX && prefix !== WRAP_PREFIX) ||
    prefix !== expectedPrefix ||
    !/^[1-9][0-9]*$/.test(versionText ?? '') ||
    !Number.isSafeInteger(version) ||
    iv?.length !== 12 ||
    ct === undefined ||
    tag?.length !== 16
  ) {
    throw new CryptoError('MALFORMED_CIPHERTEXT', 'not a HeroAgent ciphertext of this kind');
  }
  return { prefix, version, iv, ct, tag };
}

function associatedData(prefix: string, version: number, context: string): Buffer {
  // Length-prefix the context so ("a", "b|c") and ("a|b", "c") can never collide.
  return Buffer.from(`${prefix}.${version}|${Buffer.byteLength(context)}|${context}`, 'utf8');
}
