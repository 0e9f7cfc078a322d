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
  private clock: number;

  /** Its clock starts at `start` (an hour ago: the checkpoints it signs are fresh) and moves on a second a step. */
  constructor(
    readonly audit: SigningKey,
    tenantId: string = randomUUID(),
    start = new Date(Date.now() - 3_600_000),
  ) {
    this.tenantId = tenantId;
    this.chain = new TenantChain(tenantId);
    this.clock = start.getTime();
  }

  /** Appends `count` events. */
  append(count: number): this {
    for (let index = 0; index < count; index += 1)
      this.records.push(
        this.chain.append(signedTestEvent(this.producer, this.tenantId), this.at().toISOString()),
      );
    return this;
  }

  /** Signs `count` checkpoints (re-signing an unchanged tree, as an idle tenant's hourly one). */
  sign(count = 1): this {
    for (let index = 0; index < count; index += 1) {
      this.clock += 1000;
      this.checkpoints.push(this.chain.checkpoint(this.audit, this.at(), { resign: true })!);
    }
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

  /**
   * What GET /v1/integrity/consistency?from=<size>[&sequenceFrom=<number>] answers, honestly,
   * listing at most `limit` checkpoints (the gateway's page is 500).
   */
  answer(from: number, sequenceFrom?: number, limit = 500) {
    const second = this.checkpoints.at(-1)!;
    const leaves = this.records
      .slice(0, second.checkpoint.treeSize)
      .map((record) => record.leafHash);
    const ofSize = this.checkpoints.filter(({ checkpoint }) => checkpoint.treeSize === from);
    const start =
      sequenceFrom === undefined
        ? this.checkpoints.findIndex(({ checkpoint }) => checkpoint.treeSize >= from)
        : sequenceFrom - 1;
    const sequence = this.checkpoints.slice(start, start + limit);
    return {
      first: ofSize.at(-1) ?? null,
      second,
      proof: consistencyProof(leaves, from).map((hash) => hash.toString('hex')),
      sequence,
      sequenceComplete: sequence.at(-1) === second,
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
    return new Date(this.clock);
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
