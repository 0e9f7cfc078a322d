import {
  AUDIT_CHECKPOINT_PURPOSE,
  type AuditRecord,
  type SignedAuditEvent,
  type SignedCheckpoint,
} from '@heroagent/contracts';
import { signJson, type SigningKey } from '@heroagent/crypto';
import { GENESIS_HASH, canonicalEnvelope, chainHash, leafHash } from './hashing.js';
import { MerkleFrontier } from './merkle.js';

/** Where a tenant's chain stands: the last sequence number and hash, the tree, the last checkpoint. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: Buffer;
  readonly frontier: MerkleFrontier;
  readonly lastCheckpoint: { readonly treeSize: number; readonly rootHash: string } | null;
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
  private lastCheckpoint: { treeSize: number; rootHash: string } | null;

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

  /** Signs a checkpoint over the whole chain so far; undefined when empty or nothing new since the last. */
  checkpoint(key: SigningKey, timestamp: Date): SignedCheckpoint | undefined {
    if (this.lastCheckpoint !== null && this.seq < this.lastCheckpoint.treeSize) {
      throw new Error(
        `the chain has ${this.seq} events but was checkpointed at ${this.lastCheckpoint.treeSize}: it was truncated`,
      );
    }
    if (this.seq === 0 || this.lastCheckpoint?.treeSize === this.seq) return undefined;
    const checkpoint = {
      v: 1 as const,
      tenantId: this.tenantId,
      treeSize: this.seq,
      rootHash: this.frontier.root().toString('hex'),
      chainHead: this.hash.toString('hex'),
      timestamp: timestamp.toISOString(),
      previous: this.lastCheckpoint,
    };
    this.lastCheckpoint = { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash };
    return { checkpoint, signature: signJson(checkpoint, AUDIT_CHECKPOINT_PURPOSE, key) };
  }
}
