import { EMPTY_ROOT, nodeHash } from './hashing.js';

/** The largest power of two strictly smaller than `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 §2.1 Merkle Tree Hash of `leaves[start, end)` (already leaf-hashed). */
export function merkleRoot(leaves: readonly Uint8Array[], start = 0, end = leaves.length): Buffer {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return Buffer.from(leaves[start]!);
  const k = splitPoint(n);
  return nodeHash(merkleRoot(leaves, start, start + k), merkleRoot(leaves, start + k, end));
}

/**
 * The right edge of an append-only Merkle tree: the roots of its perfect subtrees, largest first
 * (one per set bit of the size). Appending a leaf and computing the root are O(log n), so the
 * audit service keeps the tree head current without rereading the tenant's events.
 */
export class MerkleFrontier {
  private constructor(
    private readonly nodes: Buffer[],
    private count: number,
  ) {}

  static empty(): MerkleFrontier {
    return new MerkleFrontier([], 0);
  }

  /** Rebuilds a frontier stored with {@link serialize}; throws if the node count does not fit the size. */
  static restore(size: number, serialized: Uint8Array): MerkleFrontier {
    const expected = popCount(size);
    if (!Number.isSafeInteger(size) || size < 0 || serialized.byteLength !== expected * 32) {
      throw new Error(
        `a frontier of size ${size} has ${expected} nodes, not ${serialized.byteLength / 32}`,
      );
    }
    const nodes: Buffer[] = [];
    for (let offset = 0; offset < serialized.byteLength; offset += 32) {
      nodes.push(Buffer.from(serialized.subarray(offset, offset + 32)));
    }
    return new MerkleFrontier(nodes, size);
  }

  get size(): number {
    return this.count;
  }

  append(leaf: Uint8Array): void {
    let node: Buffer = Buffer.from(leaf);
    // Each trailing set bit of the old size is a perfect subtree that the new leaf completes.
    for (let size = this.count; size % 2 === 1; size = Math.floor(size / 2)) {
      node = nodeHash(this.nodes.pop()!, node);
    }
    this.nodes.push(node);
    this.count += 1;
  }

  root(): Buffer {
    if (this.nodes.length === 0) return EMPTY_ROOT;
    let root = this.nodes.at(-1)!;
    for (let index = this.nodes.length - 2; index >= 0; index -= 1)
      root = nodeHash(this.nodes[index]!, root);
    return root;
  }

  serialize(): Buffer {
    return Buffer.concat(this.nodes);
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier([...this.nodes], this.count);
  }
}

function popCount(value: number): number {
  let count = 0;
  for (let rest = value; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/** RFC 6962 §2.1.1 audit path for leaf `index` in the tree of `leaves` (`PATH(m, D[n])`). */
export function inclusionProof(
  leaves: readonly Uint8Array[],
  index: number,
  start = 0,
  end = leaves.length,
): Buffer[] {
  const n = end - start;
  if (index < 0 || index >= n) throw new RangeError(`leaf ${index} is not in a tree of ${n}`);
  if (n === 1) return [];
  const k = splitPoint(n);
  return index < k
    ? [...inclusionProof(leaves, index, start, start + k), merkleRoot(leaves, start + k, end)]
    : [...inclusionProof(leaves, index - k, start + k, end), merkleRoot(leaves, start, start + k)];
}

/** RFC 6962 §2.1.2 consistency proof between the first `first` leaves and the whole tree (`PROOF(m, D[n])`). */
export function consistencyProof(leaves: readonly Uint8Array[], first: number): Buffer[] {
  if (first < 1 || first > leaves.length)
    throw new RangeError(`no consistency proof from ${first} to ${leaves.length}`);
  return subproof(leaves, first, 0, leaves.length, true);
}

function subproof(
  leaves: readonly Uint8Array[],
  m: number,
  start: number,
  end: number,
  complete: boolean,
): Buffer[] {
  const n = end - start;
  if (m === n) return complete ? [] : [merkleRoot(leaves, start, end)];
  const k = splitPoint(n);
  return m <= k
    ? [...subproof(leaves, m, start, start + k, complete), merkleRoot(leaves, start + k, end)]
    : [...subproof(leaves, m - k, start + k, end, false), merkleRoot(leaves, start, start + k)];
}

/** RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `treeSize` with `root`? */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (
    !Number.isSafeInteger(index) ||
    !Number.isSafeInteger(treeSize) ||
    index < 0 ||
    index >= treeSize ||
    !allHashes([leaf, root, ...proof])
  )
    return false;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of `second` leaves extends the tree of `first`? */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (
    !Number.isSafeInteger(first) ||
    !Number.isSafeInteger(second) ||
    first < 1 ||
    first > second ||
    !allHashes([firstRoot, secondRoot, ...proof])
  )
    return false;
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(secondRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

/** Every hash a proof verifier takes is a SHA-256 digest; anything else (empty, truncated) fails. */
function allHashes(values: readonly Uint8Array[]): boolean {
  return values.every((value) => value.byteLength === 32);
}

function isPowerOfTwo(value: number): boolean {
  let rest = value;
  while (rest > 1 && rest % 2 === 0) rest /= 2;
  return rest === 1;
}
