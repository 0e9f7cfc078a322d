import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, leafHash, nodeHash } from './hashing.js';
import {
  MerkleFrontier,
  consistencyProof,
  inclusionProof,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

const leaves = (n: number) =>
  Array.from({ length: n }, (_, index) => leafHash(Buffer.from(`event ${index}`)));
const flip = (bytes: Uint8Array) => {
  const copy = Buffer.from(bytes);
  copy[0] = (copy[0] ?? 0) ^ 1;
  return copy;
};

describe('RFC 6962 Merkle tree hash', () => {
  it('hashes the empty tree, one leaf and small trees as the RFC defines', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    // The leaf hash of the empty string, as in Certificate Transparency's reference tests.
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    const [a, b, c] = leaves(3);
    expect(merkleRoot([a!])).toEqual(a);
    expect(merkleRoot([a!, b!])).toEqual(nodeHash(a!, b!));
    // Three leaves: the left subtree is the largest power of two below 3.
    expect(merkleRoot([a!, b!, c!])).toEqual(nodeHash(nodeHash(a!, b!), c!));
    const h = (data: Buffer) => createHash('sha256').update(data).digest();
    expect(nodeHash(a!, b!)).toEqual(h(Buffer.concat([Buffer.from([1]), a!, b!])));
  });

  it('keeps the same root incrementally, and survives serialisation', () => {
    const all = leaves(70);
    let frontier = MerkleFrontier.empty();
    expect(frontier.root()).toEqual(EMPTY_ROOT);
    for (const [index, leaf] of all.entries()) {
      frontier.append(leaf);
      expect(frontier.size).toBe(index + 1);
      expect(frontier.root()).toEqual(merkleRoot(all.slice(0, index + 1)));
      frontier = MerkleFrontier.restore(frontier.size, frontier.serialize());
    }
    expect(() => MerkleFrontier.restore(5, Buffer.alloc(32))).toThrow(/2 nodes/);
  });
});

describe('inclusion and consistency proofs (RFC 9162 verification)', () => {
  const all = leaves(33);

  it('proves every leaf of every tree size, and nothing else', () => {
    for (let size = 1; size <= all.length; size += 1) {
      const tree = all.slice(0, size);
      const root = merkleRoot(tree);
      for (let index = 0; index < size; index += 1) {
        const proof = inclusionProof(tree, index);
        expect(verifyInclusion(tree[index]!, index, size, proof, root), `${index} of ${size}`).toBe(
          true,
        );
        expect(verifyInclusion(flip(tree[index]!), index, size, proof, root)).toBe(false);
        expect(verifyInclusion(tree[index]!, index, size, proof, flip(root))).toBe(false);
        if (size > 1) {
          expect(verifyInclusion(tree[index]!, (index + 1) % size, size, proof, root)).toBe(false);
          expect(verifyInclusion(tree[index]!, index, size, proof.slice(0, -1), root)).toBe(false);
          expect(
            verifyInclusion(
              tree[index]!,
              index,
              size,
              [...proof.slice(0, -1), flip(proof.at(-1)!)],
              root,
            ),
          ).toBe(false);
        }
      }
      expect(verifyInclusion(tree[0]!, size, size, [], root)).toBe(false);
    }
  });

  it('proves every older tree is a prefix of every newer one, and detects a rewritten history', () => {
    for (let second = 1; second <= all.length; second += 1) {
      const tree = all.slice(0, second);
      const secondRoot = merkleRoot(tree);
      for (let first = 1; first <= second; first += 1) {
        const firstRoot = merkleRoot(all.slice(0, first));
        const proof = consistencyProof(tree, first);
        expect(
          verifyConsistency(first, second, firstRoot, secondRoot, proof),
          `${first}→${second}`,
        ).toBe(true);
        if (first < second) {
          expect(verifyConsistency(first, second, flip(firstRoot), secondRoot, proof)).toBe(false);
          expect(verifyConsistency(first, second, firstRoot, flip(secondRoot), proof)).toBe(false);
          expect(verifyConsistency(first, second, firstRoot, secondRoot, proof.map(flip))).toBe(
            false,
          );
          expect(verifyConsistency(first, second, firstRoot, secondRoot, [])).toBe(false);
        }
      }
    }
    // A tree whose third leaf was replaced is not consistent with the original.
    const rewritten = [...all.slice(0, 2), flip(all[2]!), ...all.slice(3, 10)];
    expect(
      verifyConsistency(
        5,
        10,
        merkleRoot(all.slice(0, 5)),
        merkleRoot(rewritten),
        consistencyProof(rewritten, 5),
      ),
    ).toBe(false);
  });

  it('refuses impossible sizes', () => {
    expect(() => inclusionProof(all, 40)).toThrow(RangeError);
    expect(() => consistencyProof(all, 0)).toThrow(RangeError);
    expect(verifyConsistency(0, 3, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
    expect(verifyConsistency(4, 3, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])).toBe(false);
  });
});
