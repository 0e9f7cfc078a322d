import { TenantChain } from '@heroagent/audit-chain';
import { canonicalJson, type SigningKey } from '@heroagent/crypto';
import { withTenant, type Kysely } from '@heroagent/db';
import type { SignedCheckpoint } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import { headOf } from '../store/heads.js';
import type { AuditDatabase } from '../store/tables.js';

/**
 * Signs tenants' Merkle tree heads: every `everyEvents` events (after each ingest batch) and every
 * `intervalMs` for any tenant with events not yet covered, each checkpoint linked to the previous.
 */
export class Checkpointer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<AuditDatabase>,
    private readonly key: SigningKey,
    private readonly options: { everyEvents: number; intervalMs: number },
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.running
        .then(() => this.checkpointStale())
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'periodic checkpoint failed');
        });
    }, this.options.intervalMs);
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
      .where((eb) => eb('seq', '>=', eb('checkpointed_seq', '+', this.options.everyEvents)))
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

  /** Signs a checkpoint over the tenant's whole chain now, unless the last one already covers it. */
  async checkpoint(tenantId: string): Promise<SignedCheckpoint | undefined> {
    const signed = await withTenant(this.db, tenantId, async (trx) => {
      const head = await trx
        .selectFrom('chain_heads')
        .select(['seq', 'hash', 'frontier', 'last_checkpoint_size', 'last_checkpoint_root'])
        .where('tenant_id', '=', tenantId)
        .forUpdate()
        .executeTakeFirst();
      if (head === undefined) return undefined;
      let checkpoint: SignedCheckpoint | undefined;
      try {
        checkpoint = new TenantChain(tenantId, headOf(head)).checkpoint(this.key, new Date());
      } catch (error) {
        // Never sign over a record that lost events: report it and leave the evidence as it is.
        this.logger.error(
          { err: error, code: 'AUDIT_CHAIN_CORRUPT', tenantId },
          'refusing to checkpoint a damaged chain',
        );
        return undefined;
      }
      if (checkpoint === undefined) return undefined;
      const { treeSize, rootHash, timestamp } = checkpoint.checkpoint;
      await trx
        .insertInto('checkpoints')
        .values({
          tenant_id: tenantId,
          tree_size: treeSize,
          root_hash: Buffer.from(rootHash, 'hex'),
          payload: canonicalJson(checkpoint.checkpoint),
          kid: checkpoint.signature.kid,
          signature: checkpoint.signature.sig,
          signed_at: timestamp,
        })
        .execute();
      await trx
        .updateTable('chain_heads')
        .set({ last_checkpoint_size: treeSize, last_checkpoint_root: Buffer.from(rootHash, 'hex') })
        .where('tenant_id', '=', tenantId)
        .execute();
      await trx
        .updateTable('tenant_activity')
        .set({ checkpointed_seq: treeSize })
        .where('tenant_id', '=', tenantId)
        .where('checkpointed_seq', '<', treeSize)
        .execute();
      return checkpoint;
    });
    if (signed !== undefined) {
      this.logger.debug({ tenantId, treeSize: signed.checkpoint.treeSize }, 'checkpoint signed');
    }
    return signed;
  }
}
