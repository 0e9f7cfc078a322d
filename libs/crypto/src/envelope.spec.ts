import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from './encoding.js';
import {
  ciphertextKeyVersion,
  decryptValue,
  encryptValue,
  generateDataKey,
  keyedDigest,
  keyedDigestMatches,
  keyedDigestVersion,
  keyRing,
  rewrapValue,
  unwrapDataKey,
  wrapDataKey,
} from './envelope.js';
import { type CryptoError } from './errors.js';

const expectCode = (fn: () => unknown, code: string) =>
  expect(fn).toThrow(expect.objectContaining({ code }) as CryptoError);

describe('envelope encryption', () => {
  const v1 = generateDataKey();
  const v2 = generateDataKey();
  const ringV1 = keyRing(new Map([[1, v1]]));
  const ringV2 = keyRing(
    new Map([
      [1, v1],
      [2, v2],
    ]),
  );
  const plaintext = Buffer.from('{"to":"bob@example.com","subject":"lunch"}');
  const context = 'tenant:t1|actions.params|row:42';

  it('round-trips under the current version, binding the context', () => {
    const ciphertext = encryptValue(plaintext, ringV1, context);
    expect(ciphertext).toMatch(/^hae1\.1\./);
    expect(decryptValue(ciphertext, ringV1, context)).toEqual(plaintext);
    expectCode(
      () => decryptValue(ciphertext, ringV1, 'tenant:t2|actions.params|row:42'),
      'DECRYPTION_FAILED',
    );
  });

  it('never repeats a nonce, across many values (nonces are drawn a page at a time)', () => {
    const nonces = new Set<string>();
    const count = 2_000; // several pages of nonces
    for (let index = 0; index < count; index += 1) {
      nonces.add(encryptValue(plaintext, ringV1, context).split('.')[2]!);
    }
    expect(nonces.size).toBe(count);
  });

  it('opens nothing with another key of the same version (a key is never confused with another)', () => {
    const ciphertext = encryptValue(plaintext, ringV1, context);
    const other = keyRing(new Map([[1, generateDataKey()]]));
    expectCode(() => decryptValue(ciphertext, other, context), 'DECRYPTION_FAILED');
    expect(
      keyedDigestMatches(keyedDigest(plaintext, ringV1, context), plaintext, other, context),
    ).toBe(false);
  });

  it('decrypts old versions after rotation and rewraps them to the current one', () => {
    const old = encryptValue(plaintext, ringV1, context);
    expect(decryptValue(old, ringV2, context)).toEqual(plaintext);
    const rewrapped = rewrapValue(old, ringV2, context);
    expect(ciphertextKeyVersion(rewrapped)).toBe(2);
    expect(decryptValue(rewrapped, ringV2, context)).toEqual(plaintext);
    expect(rewrapValue(rewrapped, ringV2, context)).toBe(rewrapped);
    // Dropping version 1 from the ring makes the old ciphertext unreadable: crypto-shredding.
    const shredded = keyRing(new Map([[2, v2]]));
    expectCode(() => decryptValue(old, shredded, context), 'DECRYPTION_FAILED');
  });

  it('rejects every flipped byte of nonce, ciphertext and tag', () => {
    const ciphertext = encryptValue(plaintext, ringV1, context);
    const parts = ciphertext.split('.');
    for (const field of [2, 3, 4]) {
      const bytes = fromBase64Url(parts[field]!)!;
      for (let index = 0; index < bytes.length; index += 1) {
        const copy = Buffer.from(bytes);
        copy[index] = (copy[index] ?? 0) ^ 0x01;
        const tampered = [...parts];
        tampered[field] = toBase64Url(copy);
        expectCode(() => decryptValue(tampered.join('.'), ringV1, context), 'DECRYPTION_FAILED');
      }
    }
  });

  it('rejects a relabelled key version and a ciphertext of the other kind', () => {
    const ciphertext = encryptValue(plaintext, ringV2, context);
    expectCode(
      () => decryptValue(ciphertext.replace(/^hae1\.2\./, 'hae1.1.'), ringV2, context),
      'DECRYPTION_FAILED',
    );
    const wrapped = wrapDataKey(generateDataKey(), ringV2, 'tenant:t1');
    expectCode(() => decryptValue(wrapped, ringV2, 'tenant:t1'), 'MALFORMED_CIPHERTEXT');
  });

  it('wraps and unwraps data keys under a key-encryption key', () => {
    const dataKey = generateDataKey();
    const wrapped = wrapDataKey(dataKey, ringV2, 'tenant:t1');
    expect(wrapped).toMatch(/^hak1\.2\./);
    expect(unwrapDataKey(wrapped, ringV2, 'tenant:t1')).toEqual(dataKey);
    expectCode(() => unwrapDataKey(wrapped, ringV2, 'tenant:t2'), 'DECRYPTION_FAILED');
    expectCode(() => wrapDataKey(Buffer.alloc(16), ringV2, 'tenant:t1'), 'INVALID_KEY');
  });

  it.each([
    '',
    'hae1',
    'hae1.1.a.b',
    'hae1.0.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA',
    'hae1.01.x.y.z',
    'xyz1.1.a.b.c',
  ])('refuses the malformed ciphertext %j', (text) =>
    expectCode(() => decryptValue(text, ringV1, context), 'MALFORMED_CIPHERTEXT'),
  );

  it('refuses rings with bad keys or versions', () => {
    expectCode(() => keyRing(new Map()), 'INVALID_KEY');
    expectCode(() => keyRing(new Map([[1, Buffer.alloc(16)]])), 'INVALID_KEY');
    expectCode(() => keyRing(new Map([[0, v1]])), 'INVALID_KEY');
    expectCode(() => keyRing(new Map([[1, v1]]), 3), 'INVALID_KEY');
  });
});

describe('keyed digests', () => {
  const v1 = generateDataKey();
  const ringV1 = keyRing(new Map([[1, v1]]));
  const ringV2 = keyRing(
    new Map([
      [1, v1],
      [2, generateDataKey()],
    ]),
  );
  const value = Buffer.from('{"to":"sam@example.com"}');

  it('is the same for the same value, key and context, and differs otherwise', () => {
    const digest = keyedDigest(value, ringV1, 'row:1');
    expect(digest).toHaveLength(36);
    expect(keyedDigestVersion(digest)).toBe(1);
    expect(keyedDigest(value, ringV1, 'row:1')).toEqual(digest);
    expect(keyedDigest(value, ringV1, 'row:2')).not.toEqual(digest);
    expect(keyedDigest(Buffer.from('{"to":"sam@example.org"}'), ringV1, 'row:1')).not.toEqual(
      digest,
    );
    expect(keyedDigest(value, keyRing(new Map([[1, generateDataKey()]])), 'row:1')).not.toEqual(
      digest,
    );
  });

  it('is not a plain hash of the value, so a guess cannot be confirmed without the key', async () => {
    const { createHash } = await import('node:crypto');
    const digest = keyedDigest(value, ringV1, 'row:1');
    expect(digest.subarray(4)).not.toEqual(createHash('sha256').update(value).digest());
  });

  it('matches under the version that made it, after the ring moved on', () => {
    const digest = keyedDigest(value, ringV1, 'row:1');
    expect(keyedDigestMatches(digest, value, ringV2, 'row:1')).toBe(true);
    expect(keyedDigestMatches(digest, Buffer.from('other'), ringV2, 'row:1')).toBe(false);
    expect(keyedDigestMatches(digest, value, ringV2, 'row:2')).toBe(false);
  });

  it('refuses a digest of another shape, or of a version the ring lacks', () => {
    expectCode(() => keyedDigestVersion(Buffer.alloc(32)), 'MALFORMED_CIPHERTEXT');
    const fromV2 = keyedDigest(value, ringV2, 'row:1');
    expectCode(() => keyedDigestMatches(fromV2, value, ringV1, 'row:1'), 'DECRYPTION_FAILED');
  });
});
