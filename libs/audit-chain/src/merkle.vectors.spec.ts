import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, leafHash } from './hashing.js';
import {
  MerkleFrontier,
  consistencyProof,
  inclusionProof,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

/** transparency-dev/merkle test data (Apache-2.0); see test-vectors/README.md. */
const VECTORS = join(import.meta.dirname, '..', 'test-vectors', 'transparency-dev');

interface InclusionVector {
  leafIdx: number;
  treeSize: number;
  root: string | null;
  leafHash: string | null;
  proof: (string | null)[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string | null;
  root2: string | null;
  proof: (string | null)[] | null;
  desc: string;
  wantErr: boolean;
}

function vectors<T>(kind: string): { file: string; vector: T }[] {
  const found: { file: string; vector: T }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.json'))
        found.push({
          file: path.slice(VECTORS.length + 1),
          vector: JSON.parse(readFileSync(path, 'utf8')) as T,
        });
    }
  };
  walk(join(VECTORS, kind));
  return found;
}

/**
 * Vectors where we refuse what the Go verifier accepts, on purpose: the "roots" here are 14-byte
 * placeholders ("don't care 2"), and we refuse any root or proof node that is not a SHA-256 digest.
 */
const STRICTER = new Set(['consistency/additional/sizes-are-equal-one-and-proof-is-empty.json']);

const bytes = (base64: string | null) => Buffer.from(base64 ?? '', 'base64');
const proofOf = (proof: (string | null)[] | null) => (proof ?? []).map(bytes);

const reference = JSON.parse(readFileSync(join(VECTORS, 'reference-tree.json'), 'utf8')) as {
  leafInputs: string[];
  rootHashes: string[];
};
const referenceLeaves = reference.leafInputs.map((hex) => leafHash(Buffer.from(hex, 'hex')));

describe('transparency-dev/merkle reference tree', () => {
  it('hashes every prefix of the reference leaves to the published root', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe(reference.rootHashes[0]);
    const frontier = MerkleFrontier.empty();
    referenceLeaves.forEach((leaf, index) => {
      frontier.append(leaf);
      const size = index + 1;
      expect(merkleRoot(referenceLeaves.slice(0, size)).toString('hex')).toBe(
        reference.rootHashes[size],
      );
      expect(frontier.root().toString('hex')).toBe(reference.rootHashes[size]);
    });
  });
});

describe('transparency-dev/merkle inclusion vectors', () => {
  const all = vectors<InclusionVector>('inclusion');

  it('has the vectors (valid and corrupted)', () => {
    expect(all.length).toBeGreaterThan(80);
    expect(all.filter(({ vector }) => !vector.wantErr).length).toBeGreaterThan(5);
  });

  it.each(all)('$file', ({ vector }) => {
    // The Go verifier takes a 0-based index too; a negative one (a "sub @1" of 0) cannot verify.
    const ok = verifyInclusion(
      bytes(vector.leafHash),
      vector.leafIdx,
      vector.treeSize,
      proofOf(vector.proof),
      bytes(vector.root),
    );
    expect(ok).toBe(!vector.wantErr);
  });

  it('reproduces every valid proof over the reference tree', () => {
    let checked = 0;
    for (const { vector } of all) {
      if (vector.wantErr || vector.treeSize > referenceLeaves.length) continue;
      const leaves = referenceLeaves.slice(0, vector.treeSize);
      if (!leaves[vector.leafIdx]!.equals(bytes(vector.leafHash))) continue;
      expect(inclusionProof(leaves, vector.leafIdx).map((hash) => hash.toString('base64'))).toEqual(
        vector.proof ?? [],
      );
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });
});

describe('transparency-dev/merkle consistency vectors', () => {
  const all = vectors<ConsistencyVector>('consistency');

  it('has the vectors (valid and corrupted)', () => {
    expect(all.length).toBeGreaterThan(80);
    expect(all.filter(({ vector }) => !vector.wantErr).length).toBeGreaterThan(5);
  });

  it.each(all)('$file', ({ file, vector }) => {
    const ok = verifyConsistency(
      vector.size1,
      vector.size2,
      bytes(vector.root1),
      bytes(vector.root2),
      proofOf(vector.proof),
    );
    expect(ok).toBe(STRICTER.has(file) ? false : !vector.wantErr);
  });

  it('reproduces every valid proof over the reference tree', () => {
    let checked = 0;
    for (const { file, vector } of all) {
      if (
        vector.wantErr ||
        STRICTER.has(file) ||
        vector.size1 < 1 ||
        vector.size2 > referenceLeaves.length
      )
        continue;
      const leaves = referenceLeaves.slice(0, vector.size2);
      if (merkleRoot(leaves).toString('base64') !== vector.root2) continue;
      expect(consistencyProof(leaves, vector.size1).map((hash) => hash.toString('base64'))).toEqual(
        vector.proof ?? [],
      );
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });
});
