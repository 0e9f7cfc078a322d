import { randomUUID } from 'node:crypto';
import {
  AUDIT_CHECKPOINT_PURPOSE,
  type Checkpoint,
  type SignedCheckpoint,
} from '@heroagent/contracts';
import {
  TenantChain,
  bundleLines,
  consistencyProof,
  type AppendedRecord,
} from '@heroagent/audit-chain';
import { bundleKeyOf, signedTestEvent } from '@heroagent/audit-chain/testing';
import {
  exportEd25519PublicKey,
  generateSigningKey,
  signJson,
  toBase64Url,
  type SigningKey,
} from '@heroagent/crypto';

/**
 * A tenant's record as the audit service keeps it, for the verifier's tests: events, numbered
 * checkpoints (re-signed while idle), the bundle an export gives, and the answer the gateway's
 * consistency route gives — honest, for the tests to falsify.
 */
export class WitnessHistory {
  readonly producer = generateSigningKey();
  readonly records: AppendedRecord[] = [];
  readonly checkpoints: SignedCheckpoint[] = [];
  readonly tenantId: string;
  private readonly chain: TenantChain;
  private minute = 0;

  constructor(
    readonly audit: SigningKey,
    tenantId: string = randomUUID(),
  ) {
    this.tenantId = tenantId;
    this.chain = new TenantChain(tenantId);
  }

  /** Appends `count` events. */
  append(count: number): this {
    for (let index = 0; index < count; index += 1)
      this.records.push(
        this.chain.append(signedTestEvent(this.producer, this.tenantId), this.at().toISOString()),
      );
    return this;
  }

  /** Signs a checkpoint (re-signing an unchanged tree, as an idle tenant's hourly one). */
  sign(): this {
    this.minute += 60;
    this.checkpoints.push(this.chain.checkpoint(this.audit, this.at(), { resign: true })!);
    return this;
  }

  /** The export of the first `events` events with `checkpoints`. */
  bundle(
    checkpoints: readonly SignedCheckpoint[] = this.checkpoints,
    events = this.records.length,
  ): string[] {
    const records = this.records.slice(0, events);
    return [
      ...bundleLines({
        header: {
          tenantId: this.tenantId,
          exportedAt: new Date().toISOString(),
          events: records.length,
        },
        keys: [bundleKeyOf(this.producer, 'gateway'), bundleKeyOf(this.audit, 'audit')],
        records: records.map(({ leafHash: _leaf, receivedAt: _received, ...record }) => record),
        checkpoints,
      }),
    ];
  }

  /** What GET /v1/integrity/consistency?from=<size> answers, honestly. */
  answer(from: number) {
    const second = this.checkpoints.at(-1)!;
    const leaves = this.records
      .slice(0, second.checkpoint.treeSize)
      .map((record) => record.leafHash);
    const ofSize = this.checkpoints.filter(({ checkpoint }) => checkpoint.treeSize === from);
    const start = this.checkpoints.findIndex(({ checkpoint }) => checkpoint.treeSize >= from);
    return {
      first: ofSize.at(-1) ?? null,
      second,
      proof: consistencyProof(leaves, from).map((hash) => hash.toString('hex')),
      sequence: this.checkpoints.slice(start),
      sequenceComplete: true,
      auditKeys: [
        {
          kid: this.audit.kid,
          publicKey: toBase64Url(exportEd25519PublicKey(this.audit.publicKey)),
          notBefore: '2000-01-01T00:00:00.000Z',
        },
      ],
    };
  }

  private at(): Date {
    return new Date(Date.UTC(2026, 11, 1, 0, this.minute));
  }
}

/** A checkpoint changed and re-signed with `key`: what an operator holding the audit key can do. */
export function resigned(
  signed: SignedCheckpoint,
  change: Partial<Checkpoint>,
  key: SigningKey,
): SignedCheckpoint {
  const checkpoint = { ...signed.checkpoint, ...change } as Checkpoint;
  return { checkpoint, signature: signJson(checkpoint, AUDIT_CHECKPOINT_PURPOSE, key) };
}
