import { describe, expect, it } from 'vitest';
import {
  ed25519Fingerprint,
  ed25519PublicKeyFromRaw,
  ed25519Sign,
  ed25519Verify,
  exportEd25519PublicKey,
  exportEd25519Seed,
  generateSigningKey,
  signJson,
  signingKeyFromSeed,
  verifyJson,
  type JsonSignature,
  type SigningKey,
} from './ed25519.js';
import { fromBase64Url, toBase64Url } from './encoding.js';
import { CryptoError } from './errors.js';
import { generateSealingKey } from './sealed-box.js';

// RFC 8032 §7.1, tests 1–3 and the SHA(abc) test.
const rfc8032 = [
  {
    name: 'TEST 1 (empty message)',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (two bytes)',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

function flipEachByte(bytes: Buffer): Buffer[] {
  return [...bytes.keys()].map((index) => {
    const copy = Buffer.from(bytes);
    copy[index] = (copy[index] ?? 0) ^ 0x01;
    return copy;
  });
}

describe('Ed25519 (RFC 8032 vectors)', () => {
  it.each(rfc8032)('$name: derives the public key and the exact signature', (vector) => {
    const key = signingKeyFromSeed(Buffer.from(vector.seed, 'hex'));
    expect(exportEd25519PublicKey(key.publicKey).toString('hex')).toBe(vector.publicKey);
    const message = Buffer.from(vector.message, 'hex');
    const signature = ed25519Sign(message, key.privateKey);
    expect(signature.toString('hex')).toBe(vector.signature);
    const publicKey = ed25519PublicKeyFromRaw(Buffer.from(vector.publicKey, 'hex'));
    expect(ed25519Verify(message, signature, publicKey)).toBe(true);
  });

  it.each(rfc8032)('$name: rejects every single flipped bit of the signature', (vector) => {
    const publicKey = ed25519PublicKeyFromRaw(Buffer.from(vector.publicKey, 'hex'));
    const message = Buffer.from(vector.message, 'hex');
    for (const tampered of flipEachByte(Buffer.from(vector.signature, 'hex'))) {
      expect(ed25519Verify(message, tampered, publicKey)).toBe(false);
    }
  });

  it('rejects a flipped message byte, a truncated signature and another key', () => {
    const vector = rfc8032[2]!;
    const publicKey = ed25519PublicKeyFromRaw(Buffer.from(vector.publicKey, 'hex'));
    const signature = Buffer.from(vector.signature, 'hex');
    for (const message of flipEachByte(Buffer.from(vector.message, 'hex'))) {
      expect(ed25519Verify(message, signature, publicKey)).toBe(false);
    }
    expect(ed25519Verify(Buffer.from('af82', 'hex'), signature.subarray(0, 63), publicKey)).toBe(
      false,
    );
    const other = ed25519PublicKeyFromRaw(Buffer.from(rfc8032[0]!.publicKey, 'hex'));
    expect(ed25519Verify(Buffer.from('af82', 'hex'), signature, other)).toBe(false);
  });

  it('round-trips seeds and public keys and names keys by fingerprint', () => {
    const key = generateSigningKey();
    const again = signingKeyFromSeed(exportEd25519Seed(key.privateKey));
    expect(again.kid).toBe(key.kid);
    expect(key.kid).toMatch(/^ed25519:[A-Za-z0-9_-]{16}$/);
    expect(ed25519Fingerprint(ed25519PublicKeyFromRaw(exportEd25519PublicKey(key.publicKey)))).toBe(
      key.kid,
    );
  });

  it('refuses keys of the wrong size or type', () => {
    expect(() => signingKeyFromSeed(Buffer.alloc(31))).toThrow(CryptoError);
    expect(() => ed25519PublicKeyFromRaw(Buffer.alloc(33))).toThrow(CryptoError);
    expect(() => ed25519Sign(Buffer.alloc(1), generateSealingKey().privateKey)).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }) as CryptoError,
    );
  });
});

describe('signJson / verifyJson', () => {
  const key: SigningKey = generateSigningKey('gateway-2026-11');
  const resolver = (kid: string) => (kid === key.kid ? key.publicKey : undefined);
  const payload = {
    tenant: 't1',
    amount: 12.5,
    recipients: ['a@example.com'],
    nested: { b: 1, a: 2 },
  };

  it('verifies what it signed, whatever the key order of the payload', () => {
    const signature = signJson(payload, 'audit.event', key);
    expect(signature).toMatchObject({ alg: 'Ed25519', kid: 'gateway-2026-11' });
    const reordered = {
      nested: { a: 2, b: 1 },
      recipients: ['a@example.com'],
      amount: 12.5,
      tenant: 't1',
    };
    expect(() => verifyJson(reordered, 'audit.event', signature, resolver)).not.toThrow();
  });

  it('rejects every flipped byte of the signature', () => {
    const signature = signJson(payload, 'audit.event', key);
    for (const tampered of flipEachByte(fromBase64Url(signature.sig)!)) {
      expect(() =>
        verifyJson(payload, 'audit.event', { ...signature, sig: toBase64Url(tampered) }, resolver),
      ).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }) as CryptoError);
    }
  });

  it('rejects a changed payload, a wrong purpose, a swapped key and an unknown key id', () => {
    const signature = signJson(payload, 'audit.event', key);
    const expectCode = (fn: () => void, code: string) =>
      expect(fn).toThrow(expect.objectContaining({ code }) as CryptoError);
    expectCode(
      () => verifyJson({ ...payload, amount: 12.51 }, 'audit.event', signature, resolver),
      'SIGNATURE_INVALID',
    );
    expectCode(() => verifyJson(payload, 'capability', signature, resolver), 'SIGNATURE_INVALID');
    const impostor = generateSigningKey('gateway-2026-11');
    const forged: JsonSignature = signJson(payload, 'audit.event', impostor);
    expectCode(() => verifyJson(payload, 'audit.event', forged, resolver), 'SIGNATURE_INVALID');
    expectCode(
      () => verifyJson(payload, 'audit.event', { ...signature, kid: 'other' }, resolver),
      'UNKNOWN_KEY',
    );
    // The key id is signed: relabelling a valid signature with another known id fails.
    const second = generateSigningKey('second');
    const both = (kid: string) => (kid === 'second' ? second.publicKey : resolver(kid));
    expectCode(
      () => verifyJson(payload, 'audit.event', { ...signature, kid: 'second' }, both),
      'SIGNATURE_INVALID',
    );
    expectCode(
      () => verifyJson(payload, 'audit.event', { ...signature, sig: 'not base64url!' }, resolver),
      'SIGNATURE_INVALID',
    );
  });
});
