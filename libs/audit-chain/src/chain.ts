import {
  AUDIT_CHECKPOINT_PURPOSE,
  type AuditRecord,
  type Checkpoint,
  type CheckpointV2,
  type SignedAuditEvent,
  type SignedCheckpoint,
} from '@heroagent/contracts';
import { signJson, type SigningKey } from '@heroagent/crypto';
import {
  GENESIS_HASH,
  canonicalEnvelope,
  chainHash,
  checkpointDigest,
  leafHash,
} from './hashing.js';
import { MerkleFrontier } from './merkle.js';

/** The last checkpoint a tenant's next one links to: its number, tree head and digest (hex). */
export interface CheckpointLink {
  readonly index: number;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly digest: string;
}

/** Where a tenant's chain stands: the last sequence number and hash, the tree, the last checkpoint. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: Buffer;
  readonly frontier: MerkleFrontier;
  readonly lastCheckpoint: CheckpointLink | null;
}

/** Where an appended event sits: its sequence number, the hashes around it, its Merkle leaf. */
export interface ChainLink {
  readonly seq: number;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
  readonly leafHash: Buffer;
}

/** A record appended to the chain, with the leaf hash the tree took. */
export interface AppendedRecord extends AuditRecord {
  readonly leafHash: Buffer;
}

/**
 * One tenant's chain in memory: appends signed envelopes (sequence, `prev_hash`, `hash`, Merkle
 * leaf) and signs checkpoints over it. The audit service persists its head after each batch; the
 * tests build bundles with it.
 */
export class TenantChain {
  private seq: number;
  private hash: Buffer;
  private readonly frontier: MerkleFrontier;
  private lastCheckpoint: CheckpointLink | null;

  constructor(
    readonly tenantId: string,
    head?: ChainHead,
  ) {
    this.seq = head?.seq ?? 0;
    this.hash = head?.hash ?? GENESIS_HASH;
    this.frontier = head?.frontier.clone() ?? MerkleFrontier.empty();
    this.lastCheckpoint = head?.lastCheckpoint ?? null;
  }

  get head(): ChainHead {
    return {
      seq: this.seq,
      hash: this.hash,
      frontier: this.frontier.clone(),
      lastCheckpoint: this.lastCheckpoint,
    };
  }

  /** Appends an envelope that was already validated and whose signature verified. */
  append(envelope: SignedAuditEvent, receivedAt: string): AppendedRecord {
    if (envelope.event.tenantId !== this.tenantId) throw new Error('an event of another tenant');
    const canonical = canonicalEnvelope(envelope);
    const link = this.appendCanonical(canonical, leafHash(canonical));
    return {
      seq: link.seq,
      prevHash: link.prevHash.toString('hex'),
      hash: link.hash.toString('hex'),
      receivedAt,
      envelope,
      leafHash: link.leafHash,
    };
  }

  /** Appends an event by its canonical bytes and leaf hash (as the ingest's checker computed them). */
  appendCanonical(canonical: Uint8Array, leaf: Uint8Array): ChainLink {
    const prevHash = this.hash;
    const hash = chainHash(prevHash, canonical);
    this.frontier.append(leaf);
    this.seq += 1;
    this.hash = hash;
    return { seq: this.seq, prevHash, hash, leafHash: Buffer.from(leaf) };
  }

  /**
   * Signs a checkpoint over the whole chain so far, numbered after and linked to the last one.
   * Undefined when the chain is empty, or when nothing is new since the last checkpoint unless
   * `resign` (an idle tenant's periodic checkpoint: the same tree, a later time).
   */
  checkpoint(
    key: SigningKey,
    timestamp: Date,
    options: { resign?: boolean } = {},
  ): SignedCheckpoint | undefined {
    const last = this.lastCheckpoint;
    if (last !== null && this.seq < last.treeSize) {
      throw new Error(
        `the chain has ${this.seq} events but was checkpointed at ${last.treeSize}: it was truncated`,
      );
    }
    if (this.seq === 0 || (last?.treeSize === this.seq && options.resign !== true))
      return undefined;
    const checkpoint: CheckpointV2 = {
      v: 2,
      tenantId: this.tenantId,
      index: (last?.index ?? 0) + 1,
      treeSize: this.seq,
      rootHash: this.frontier.root().toString('hex'),
      chainHead: this.hash.toString('hex'),
      timestamp: timestamp.toISOString(),
      previous: last,
    };
    this.lastCheckpoint = linkTo(checkpoint);
    return { checkpoint, signature: signJson(checkpoint, AUDIT_CHECKPOINT_PURPOSE, key) };
  }
}

/** How the next checkpoint names `checkpoint`. */
export function linkTo(checkpoint: Checkpoint, index?: number): CheckpointLink {
  return {
    index: checkpoint.v === 2 ? checkpoint.index : (index ?? 0),
    treeSize: checkpoint.treeSize,
    rootHash: checkpoint.rootHash,
    digest: checkpointDigest(checkpoint).toString('hex'),
  };
}
