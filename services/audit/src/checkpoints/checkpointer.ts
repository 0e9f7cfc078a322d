import { TenantChain } from '@heroagent/audit-chain';
import { canonicalJson, type SigningKey } from '@heroagent/crypto';
import { sql, withTenant, type Kysely } from '@heroagent/db';
import type { SignedCheckpoint } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import { HEAD_COLUMNS, headOf } from '../store/heads.js';
import type { AuditDatabase } from '../store/tables.js';

/** How often checkpoints are signed. */
export interface CheckpointSchedule {
  /** After an ingest batch, a tenant grown by this many events since its last checkpoint. */
  readonly everyEvents: number;
  /** How often each replica looks for tenants due (new events, or the last checkpoint too old). */
  readonly intervalMs: number;
  /** The longest a tenant with events goes without a signed checkpoint, even when idle. */
  readonly maxAgeMs: number;
}

/**
 * Signs tenants' Merkle tree heads: every `everyEvents` events (after each ingest batch), every
 * `intervalMs` for any tenant with events not yet covered, and at least every `maxAgeMs` for
 * every tenant with a chain, idle or not (the same tree re-signed with a later time), so that a
 * witness holding the checkpoints sees a gap when one is missing. Each checkpoint is numbered and
 * linked to the previous one.
 *
 * Replicas all run the timer; Postgres decides. A checkpoint is signed under the tenant's chain
 * head row lock, after re-reading when the last one was signed, and is dated by Postgres's clock:
 * two replicas due at once sign one checkpoint, and timestamps never run backwards between them.
 */
export class Checkpointer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<AuditDatabase>,
    private readonly key: SigningKey,
    private readonly schedule: CheckpointSchedule,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.running
        .then(async () => {
          await this.checkpointStale();
          await this.checkpointAged();
        })
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'periodic checkpoint failed');
        });
    }, this.schedule.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** After a batch: checkpoint the tenants that grew by `everyEvents` since their last checkpoint. */
  async checkpointDue(): Promise<void> {
    const due = await this.db
      .selectFrom('tenant_activity')
      .select('tenant_id')
      .where((eb) => eb('seq', '>=', eb('checkpointed_seq', '+', this.schedule.everyEvents)))
      .execute();
    for (const { tenant_id } of due) await this.checkpoint(tenant_id);
  }

  /** Checkpoints every tenant with events not yet covered. */
  async checkpointStale(): Promise<void> {
    const stale = await this.db
      .selectFrom('tenant_activity')
      .select('tenant_id')
      .where((eb) => eb('seq', '>', eb.ref('checkpointed_seq')))
      .execute();
    for (const { tenant_id } of stale) await this.checkpoint(tenant_id);
  }

  /** Re-signs every tenant whose last checkpoint is `maxAgeMs` old (or that has none yet). */
  async checkpointAged(): Promise<void> {
    const aged = await this.db
      .selectFrom('tenant_activity')
      .select('tenant_id')
      .where('seq', '>', 0)
      .where((eb) =>
        eb.or([
          eb('checkpointed_at', 'is', null),
          eb(
            'checkpointed_at',
            '<=',
            sql<Date>`now() - ${this.schedule.maxAgeMs} * interval '1 millisecond'`,
          ),
        ]),
      )
      .orderBy('checkpointed_at')
      .execute();
    for (const { tenant_id } of aged) await this.checkpoint(tenant_id, { aged: true });
  }

  /**
   * Signs a checkpoint over the tenant's whole chain now, unless the last one already covers it;
   * with `aged`, re-signs an unchanged tree too, unless (another replica's) last checkpoint is
   * younger than `maxAgeMs`.
   */
  async checkpoint(
    tenantId: string,
    options: { aged?: boolean } = {},
  ): Promise<SignedCheckpoint | undefined> {
    const signed = await withTenant(this.db, tenantId, async (trx) => {
      const head = await trx
        .selectFrom('chain_heads')
        .select([...HEAD_COLUMNS, 'last_checkpoint_at'])
        .select(sql<Date>`clock_timestamp()`.as('now'))
        .where('tenant_id', '=', tenantId)
        .forUpdate()
        .executeTakeFirst();
      if (head === undefined) return undefined;
      const last = head.last_checkpoint_at?.getTime();
      const now = Math.max(head.now.getTime(), last ?? 0);
      if (options.aged === true && last !== undefined && now - last < this.schedule.maxAgeMs)
        return undefined;
      let checkpoint: SignedCheckpoint | undefined;
      try {
        checkpoint = new TenantChain(tenantId, headOf(head)).checkpoint(this.key, new Date(now), {
          resign: options.aged === true,
        });
      } catch (error) {
        // Never sign over a record that lost events: report it and leave the evidence as it is.
        this.logger.error(
          { err: error, code: 'AUDIT_CHAIN_CORRUPT', tenantId },
          'refusing to checkpoint a damaged chain',
        );
        return undefined;
      }
      if (checkpoint === undefined) return undefined;
      await this.store(trx, checkpoint);
      return checkpoint;
    });
    if (signed !== undefined) {
      this.logger.debug({ tenantId, treeSize: signed.checkpoint.treeSize }, 'checkpoint signed');
    }
    return signed;
  }

  /** Stores a signed checkpoint and moves the head's link and the tenant's activity to it. */
  private async store(trx: Kysely<AuditDatabase>, signed: SignedCheckpoint): Promise<void> {
    const { checkpoint, signature } = signed;
    if (checkpoint.v !== 2) throw new Error('only numbered checkpoints are signed');
    const payload = canonicalJson(checkpoint);
    const root = Buffer.from(checkpoint.rootHash, 'hex');
    const signedAt = new Date(checkpoint.timestamp);
    await trx
      .insertInto('checkpoints')
      .values({
        tenant_id: checkpoint.tenantId,
        checkpoint_index: checkpoint.index,
        tree_size: checkpoint.treeSize,
        root_hash: root,
        payload,
        kid: signature.kid,
        signature: signature.sig,
        signed_at: signedAt,
      })
      .execute();
    await trx
      .updateTable('chain_heads')
      .set({
        last_checkpoint_index: checkpoint.index,
        last_checkpoint_size: checkpoint.treeSize,
        last_checkpoint_root: root,
        last_checkpoint_digest: sql<Buffer>`sha256(convert_to(${payload}, 'UTF8'))`,
        last_checkpoint_at: signedAt,
      })
      .where('tenant_id', '=', checkpoint.tenantId)
      .execute();
    await trx
      .updateTable('tenant_activity')
      .set((eb) => ({
        checkpointed_seq: sql<number>`greatest(${eb.ref('checkpointed_seq')}, ${checkpoint.treeSize})`,
        checkpointed_at: signedAt,
      }))
      .where('tenant_id', '=', checkpoint.tenantId)
      .execute();
  }
}
