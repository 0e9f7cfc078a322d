import { withSettings, type Kysely } from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import type { GatewayDatabase } from '../store-tables.js';

/** A tenant's retention of task history, and who last changed it (never, for the default). */
export interface StoredRetention {
  /** Null: finished tasks are kept until the tenant is deleted. */
  readonly taskHistoryDays: number | null;
  readonly updatedAt: Date | null;
  readonly updatedBy: string | null;
}

/** A tenant that limits its task history, as the sweep finds it. */
export interface RetentionLimit {
  readonly tenantId: string;
  readonly taskHistoryDays: number;
}

/**
 * Each tenant's retention setting (in the tenant's row only), and the sweep's two steps: every
 * tenant that limits its history, then one tenant's finished tasks older than its limit.
 */
export class RetentionRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** The sweeper's own role: every tenant's limit, and finished tasks only (see its policies). */
    private readonly sweeper: Kysely<GatewayDatabase>,
  ) {}

  async get(tenantId: string): Promise<StoredRetention> {
    const row = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx
        .selectFrom('tenant_retention')
        .select(['task_history_days', 'updated_at', 'updated_by'])
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst(),
    );
    if (row === undefined) return { taskHistoryDays: null, updatedAt: null, updatedBy: null };
    return {
      taskHistoryDays: row.task_history_days,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    };
  }

  /**
   * Saves the setting, with the audit event `record` builds from the value it replaces, in one
   * transaction; the row is locked meanwhile, so the replaced value is the one that was saved.
   */
  async save(
    tenantId: string,
    taskHistoryDays: number | null,
    by: string,
    now: Date,
    record: (previous: number | null) => InTransaction,
  ): Promise<void> {
    const values = { task_history_days: taskHistoryDays, updated_at: now, updated_by: by };
    await withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const previous = await trx
        .selectFrom('tenant_retention')
        .select('task_history_days')
        .where('tenant_id', '=', tenantId)
        .forUpdate()
        .executeTakeFirst();
      await trx
        .insertInto('tenant_retention')
        .values({ tenant_id: tenantId, ...values })
        .onConflict((conflict) => conflict.column('tenant_id').doUpdateSet(values))
        .execute();
      await record(previous?.task_history_days ?? null)(trx);
    });
  }

  /** Every tenant that keeps its task history for a limited time. */
  async limits(): Promise<RetentionLimit[]> {
    const rows = await this.sweeper
      .selectFrom('tenant_retention')
      .select(['tenant_id', 'task_history_days'])
      .where('task_history_days', 'is not', null)
      .orderBy('tenant_id')
      .execute();
    return rows.flatMap((row) =>
      row.task_history_days === null
        ? []
        : [{ tenantId: row.tenant_id, taskHistoryDays: row.task_history_days }],
    );
  }

  /**
   * Deletes the tenant's tasks created before `createdBefore` that are not running (stopped, or
   * expired by `now`) — their timelines, actions and approvals go with them by cascade — and,
   * if any were, the audit event `record` builds from their number, in one transaction. The
   * sweeper's row policy never lets it see a running task, whatever this query says.
   */
  async deleteFinishedTasks(
    tenantId: string,
    createdBefore: Date,
    now: Date,
    record: (deleted: number) => InTransaction,
  ): Promise<number> {
    return this.sweeper.transaction().execute(async (trx) => {
      const deleted = await trx
        .deleteFrom('tasks')
        .where('tenant_id', '=', tenantId)
        .where('created_at', '<', createdBefore)
        .where((where) =>
          where.or([where('status', '<>', 'running'), where('expires_at', '<=', now)]),
        )
        .returning('id')
        .execute();
      if (deleted.length > 0) await record(deleted.length)(trx);
      return deleted.length;
    });
  }
}
