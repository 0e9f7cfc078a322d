import { ContractError } from '@heroagent/contracts';
import {
  sql,
  withSettings,
  withTenant,
  type Kysely,
  type Selectable,
  type Transaction,
  type TransactionLocks,
} from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import { personOwner, type PersonalKeys } from '../privacy/personal-keys.js';
import { openRow, sealValues } from '../privacy/sealed-columns.js';
import type { GatewayDatabase } from '../store-tables.js';

/** A task as its repository answers it: what the person asked (and the like) opened. */
export type TaskRow = Selectable<GatewayDatabase['tasks']>;

/** A task's row (or some of its columns) as stored, its personal columns opened with its person's key. */
export async function openTask<R extends Pick<TaskRow, 'id' | 'tenant_id' | 'user_id'>>(
  keys: PersonalKeys,
  stored: R,
): Promise<R> {
  const sealer = await keys.reader(personOwner(stored.tenant_id, stored.user_id));
  return openRow(sealer, 'tasks', stored.id, stored);
}

/** Why a capability that verifies is still refused, if it is. */
export type Standing = 'live' | 'stopped' | 'unknown' | 'paused' | 'expired';

/**
 * A task's standing from its status, its expiry and the tenant's agent switch (null: no such
 * row). Without an expiry (`expiresAt` undefined) only the status and the switch count.
 */
export function standingOf(
  status: string | null,
  paused: boolean | null,
  expiry?: { expiresAt: Date | null; now: Date },
): Standing {
  if (status === null) return 'unknown';
  if (paused === true) return 'paused';
  if (status !== 'running') return 'stopped';
  if (expiry?.expiresAt != null && expiry.expiresAt <= expiry.now) return 'expired';
  return 'live';
}

/** Tasks and the tenant's agent switch, in the tenant's rows only. */
export class TasksRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** The people's data keys, which seal what they asked. */
    private readonly keys: PersonalKeys,
  ) {}

  private async open(rows: readonly TaskRow[]): Promise<TaskRow[]> {
    return Promise.all(rows.map((row) => openTask(this.keys, row)));
  }

  async create(
    task: Omit<
      TaskRow,
      | 'status'
      | 'created_at'
      | 'stopped_at'
      | 'stopped_by'
      | 'stop_reason'
      | 'limits'
      | 'agent_status'
      | 'summary'
    > & {
      limits: object;
    },
    within: InTransaction,
    /** For a task in words: how many the agent may work on for the tenant at once. */
    agentSlots?: { readonly max: number; readonly now: Date },
  ): Promise<TaskRow> {
    const locks = agentSlots === undefined ? {} : { exclusive: [agentSlotsKey(task.tenant_id)] };
    const sealer = await this.keys.forPerson(task.tenant_id, task.user_id);
    const values = sealValues(sealer, 'tasks', task.id, {
      ...task,
      limits: JSON.stringify(task.limits),
    });
    const row = await withTenant(
      this.db,
      task.tenant_id,
      async (trx) => {
        // Under the tenant's key, across every replica: the count and the insert are one step.
        if (agentSlots !== undefined) {
          const { rows } = await sql<{ working: number }>`
          select count(*)::int as working from tasks
          where tenant_id = ${task.tenant_id} and status = 'running' and request is not null
            and expires_at > ${agentSlots.now}
            and (agent_status is null or agent_status = 'running')`.execute(trx);
          if ((rows[0]?.working ?? 0) >= agentSlots.max) {
            throw new ContractError(
              'RATE_LIMITED',
              `the agent is already working on ${agentSlots.max} tasks of this tenant: wait for one to finish, or stop one`,
            );
          }
        }
        const row = await trx
          .insertInto('tasks')
          .values(values)
          .returningAll()
          .executeTakeFirstOrThrow();
        await within(trx);
        return row;
      },
      locks,
    );
    return openTask(this.keys, row);
  }

  /** Whether a capability of this task may act now: its task running, its tenant not paused. */
  async standing(tenantId: string, taskId: string, capabilityId: string): Promise<Standing> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const row = await sql<{ status: string | null; paused: boolean | null }>`
        select
          (select status from tasks where id = ${taskId} and capability_id = ${capabilityId}) as status,
          (select agents_paused from tenant_controls where tenant_id = ${tenantId}) as paused
      `.execute(trx);
      const { status, paused } = row.rows[0] ?? { status: null, paused: null };
      return standingOf(status, paused);
    });
  }

  async list(tenantId: string, userId?: string): Promise<TaskRow[]> {
    const rows = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) => {
      let query = trx.selectFrom('tasks').selectAll().where('tenant_id', '=', tenantId);
      if (userId !== undefined) query = query.where('user_id', '=', userId);
      return query.orderBy('created_at', 'desc').limit(200).execute();
    });
    return this.open(rows);
  }

  async get(tenantId: string, taskId: string): Promise<TaskRow | undefined> {
    const row = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst(),
    );
    return row === undefined ? undefined : openTask(this.keys, row);
  }

  /**
   * Stops a running task (revoking its capability); false if it was not running. `by` null: the
   * gateway. `within` runs in the same transaction, which holds the locks given (the task's
   * person's admission locks: see actions/admission-locks.ts).
   */
  async stop(
    task: { readonly tenantId: string; readonly taskId: string; readonly userId: string },
    by: string | null,
    reason: string,
    now: Date,
    within: InTransaction,
    locks: TransactionLocks,
  ): Promise<boolean> {
    const { tenantId, taskId } = task;
    const sealer = await this.keys.forPerson(tenantId, task.userId);
    const stopReason = sealValues(sealer, 'tasks', taskId, { stop_reason: reason }).stop_reason;
    return withTenant(
      this.db,
      tenantId,
      async (trx) => {
        const result = await trx
          .updateTable('tasks')
          .set({ status: 'stopped', stopped_at: now, stopped_by: by, stop_reason: stopReason })
          .where('id', '=', taskId)
          .where('status', '=', 'running')
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await within(trx);
        return true;
      },
      locks,
    );
  }

  /**
   * Stops, in the caller's transaction, every running task of a person in the tenant it runs as
   * (they left it): answers how many.
   */
  async stopAllOf(
    trx: Transaction<GatewayDatabase>,
    userId: string,
    by: string,
    reason: string,
    now: Date,
  ): Promise<number> {
    const running = await trx
      .updateTable('tasks')
      .set({ status: 'stopped', stopped_at: now, stopped_by: by })
      .where('user_id', '=', userId)
      .where('status', '=', 'running')
      .returning(['id', 'tenant_id'])
      .execute();
    for (const task of running) {
      const sealer = await this.keys.forPerson(task.tenant_id, userId);
      await trx
        .updateTable('tasks')
        .set(sealValues(sealer, 'tasks', task.id, { stop_reason: reason }))
        .where('id', '=', task.id)
        .execute();
    }
    return running.length;
  }

  /**
   * Notes that the agent took the task, unless its timeline already says how its work stands (a
   * report can arrive before the agent's answer does). The task as it is now.
   */
  async agentAccepted(tenantId: string, taskId: string): Promise<TaskRow | undefined> {
    const row = await withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      await trx
        .updateTable('tasks')
        .set({ agent_status: 'running' })
        .where('id', '=', taskId)
        .where('agent_status', 'is', null)
        .execute();
      return trx.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
    });
    return row === undefined ? undefined : openTask(this.keys, row);
  }

  /** Pauses or resumes a tenant's agents; `within` runs in the same transaction, holding `locks`. */
  async setPaused(
    tenantId: string,
    paused: boolean,
    by: string,
    now: Date,
    within: InTransaction,
    locks: TransactionLocks,
  ): Promise<void> {
    await withTenant(
      this.db,
      tenantId,
      async (trx) => {
        await trx
          .insertInto('tenant_controls')
          .values({ tenant_id: tenantId, agents_paused: paused, changed_at: now, changed_by: by })
          .onConflict((conflict) =>
            conflict
              .column('tenant_id')
              .doUpdateSet({ agents_paused: paused, changed_at: now, changed_by: by }),
          )
          .execute();
        await within(trx);
      },
      locks,
    );
  }

  async paused(tenantId: string): Promise<boolean> {
    const row = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx
        .selectFrom('tenant_controls')
        .select('agents_paused')
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst(),
    );
    return row?.agents_paused ?? false;
  }

  async tenantExists(tenantId: string): Promise<boolean> {
    const row = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst(),
    );
    return row !== undefined;
  }
}

/** The advisory lock key under which a tenant's tasks in words are counted and started. */
function agentSlotsKey(tenantId: string): string {
  return `gateway.tasks.agent-slots:${tenantId.toLowerCase()}`;
}
