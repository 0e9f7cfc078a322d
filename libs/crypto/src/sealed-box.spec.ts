import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from './encoding.js';
import { CryptoError } from './errors.js';
import { generateSigningKey } from './ed25519.js';
import {
  exportX25519PrivateKey,
  exportX25519PublicKey,
  generateSealingKey,
  open,
  seal,
  sealingKeyFromRaw,
  x25519PublicKeyFromRaw,
  x25519SharedSecret,
  type SealContext,
  type SealedBox,
} from './sealed-box.js';

const context: SealContext = {
  sender: 'vault-proxy',
  recipient: 'gateway',
  purpose: 'vault.tokens.issue',
};

function flipped(text: string, index: number): string {
  const bytes = fromBase64Url(text)!;
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return toBase64Url(bytes);
}

describe('X25519 and HKDF building blocks', () => {
  it('computes the RFC 7748 §6.1 shared secret', () => {
    const alice = sealingKeyFromRaw(
      Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex'),
    );
    const bob = sealingKeyFromRaw(
      Buffer.from('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb', 'hex'),
    );
    expect(exportX25519PublicKey(alice.publicKey).toString('hex')).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(exportX25519PublicKey(bob.publicKey).toString('hex')).toBe(
      'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    );
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(x25519SharedSecret(alice.privateKey, bob.publicKey).toString('hex')).toBe(shared);
    expect(x25519SharedSecret(bob.privateKey, alice.publicKey).toString('hex')).toBe(shared);
  });

  it('derives the RFC 5869 test case 1 output with HKDF-SHA-256', () => {
    const okm = hkdfSync(
      'sha256',
      Buffer.alloc(22, 0x0b),
      Buffer.from('000102030405060708090a0b0c', 'hex'),
      Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex'),
      42,
    );
    expect(Buffer.from(okm).toString('hex')).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('refuses a low-order public key (all-zero shared secret)', () => {
    const zeroPoint = x25519PublicKeyFromRaw(Buffer.alloc(32));
    expect(() => x25519SharedSecret(generateSealingKey().privateKey, zeroPoint)).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }) as CryptoError,
    );
  });
});

describe('sealed box', () => {
  const recipient = generateSealingKey();
  const secret = Buffer.from('ya29.a0-access-token-for-the-gateway', 'utf8');

  it('opens for the recipient with the same context, and is different every time', () => {
    const first = seal(secret, recipient.publicKey, context);
    const second = seal(secret, recipient.publicKey, context);
    expect(first.ct).not.toBe(second.ct);
    expect(first.epk).not.toBe(second.epk);
    expect(open(first, recipient, context)).toEqual(secret);
    expect(JSON.stringify(first)).not.toContain('ya29');
  });

  it('round-trips a recipient key through its raw form', () => {
    const box = seal(secret, recipient.publicKey, context);
    const restored = sealingKeyFromRaw(exportX25519PrivateKey(recipient.privateKey));
    expect(open(box, restored, context)).toEqual(secret);
  });

  it('rejects every flipped byte of the ephemeral key, nonce, ciphertext and tag', () => {
    const box = seal(secret, recipient.publicKey, context);
    for (const field of ['epk', 'iv', 'ct', 'tag'] as const) {
      const length = fromBase64Url(box[field])!.length;
      for (let index = 0; index < length; index += 1) {
        const tampered: SealedBox = { ...box, [field]: flipped(box[field], index) };
        expect(() => open(tampered, recipient, context)).toThrow(CryptoError);
      }
    }
  });

  it('rejects another recipient key, and a wrong sender, recipient or purpose', () => {
    const box = seal(secret, recipient.publicKey, context);
    const expectRefused = (fn: () => unknown) =>
      expect(fn).toThrow(expect.objectContaining({ code: 'DECRYPTION_FAILED' }) as CryptoError);
    expectRefused(() => open(box, generateSealingKey(), context));
    expectRefused(() => open(box, recipient, { ...context, sender: 'agent' }));
    expectRefused(() => open(box, recipient, { ...context, recipient: 'audit' }));
    expectRefused(() => open(box, recipient, { ...context, purpose: 'connections.store' }));
  });

  it('refuses malformed boxes and keys of the wrong type with coded errors', () => {
    const box = seal(secret, recipient.publicKey, context);
    expect(() => open({ ...box, iv: 'AAAA' }, recipient, context)).toThrow(
      expect.objectContaining({ code: 'MALFORMED_CIPHERTEXT' }) as CryptoError,
    );
    expect(() => open({ ...box, v: 2 } as unknown as SealedBox, recipient, context)).toThrow(
      expect.objectContaining({ code: 'MALFORMED_CIPHERTEXT' }) as CryptoError,
    );
    expect(() => seal(secret, generateSigningKey().publicKey, context)).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }) as CryptoError,
    );
  });
});
