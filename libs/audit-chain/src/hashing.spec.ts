import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, chainHash, leafHash, linkHashes } from './hashing.js';

describe('hashing an appended event', () => {
  it('gives, from one encoding, exactly the chain hash and the leaf hash', () => {
    const canonical = '{"event":{"note":"naïve ✓ 🧾"},"signature":{}}';
    const bytes = Buffer.from(canonical, 'utf8');
    for (const previous of [GENESIS_HASH, randomBytes(32)]) {
      const link = linkHashes(previous, canonical);
      expect(link.hash.equals(chainHash(previous, bytes))).toBe(true);
      expect(link.leafHash.equals(leafHash(bytes))).toBe(true);
    }
    expect(GENESIS_HASH.equals(Buffer.alloc(32))).toBe(true);
  });

  it('refuses a previous hash that is not 32 bytes', () => {
    expect(() => linkHashes(Buffer.alloc(0), '{}')).toThrow(/32 bytes/);
  });
});
