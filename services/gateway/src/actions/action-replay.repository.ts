import { sql, withSettings, type Kysely } from '@heroagent/db';
import { ownerKey, personOwner, type PersonalKeys } from '../privacy/personal-keys.js';
import { openRow } from '../privacy/sealed-columns.js';
import type { ActionStatus, GatewayDatabase } from '../store-tables.js';
import { COUNTED, SPENDING, toActionCounts, type ActionCounts } from './action-counts.js';
import type { ActionRow } from './actions.repository.js';

/**
 * An action as a policy replay needs it: what was asked and decided, what its task was granted,
 * and the counts as of when it was asked (other actions counted by the status they have now).
 */
export interface ReplayableAction {
  readonly id: string;
  readonly taskId: string;
  readonly userId: string;
  readonly type: string;
  readonly class: ActionRow['class'];
  readonly status: ActionStatus;
  readonly params: unknown;
  /** The decision recorded when it was asked. */
  readonly policy: unknown;
  /** The parameters found not to come from the person, as recorded (UntrustedValue[]). */
  readonly untrusted: unknown;
  readonly createdAt: Date;
  /** What its task's capability granted (limits as stored: parse before use). */
  readonly grant: {
    readonly actions: readonly string[];
    readonly limits: unknown;
    readonly connectionId: string | undefined;
  };
  readonly counts: ActionCounts;
}

/** Actions as a policy replay reads them back (reads only). */
export class ActionReplayRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** The people's data keys, which open what an action was given. */
    private readonly keys: PersonalKeys,
  ) {}

  /**
   * The tenant's `limit` most recent actions asked by an agent (undos are a person's and are left
   * out), newest first, each with the counts `counts()` would have given when it was asked.
   * Reads only.
   */
  async recentForReplay(tenantId: string, limit: number): Promise<ReplayableAction[]> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const result = await sql<{
        id: string;
        task_id: string;
        user_id: string;
        type: string;
        class: ActionRow['class'];
        status: ActionStatus;
        params: unknown;
        policy: unknown;
        untrusted: unknown;
        created_at: Date;
        task_actions_granted: string[];
        task_limits: unknown;
        task_connection_id: string | null;
        last_hour: string;
        last_day: string;
        same_last_hour: string;
        spent_today: string | null;
        task_actions: string;
        task_spent: string | null;
      }>`
        select a.id, a.task_id, a.user_id, a.type, a.class, a.status, a.params, a.policy,
          a.untrusted, a.created_at, t.actions as task_actions_granted, t.limits as task_limits,
          t.connection_id as task_connection_id, c.last_hour, c.last_day, c.same_last_hour,
          c.spent_today, c.task_actions, c.task_spent
        from (
          select id, tenant_id, task_id, user_id, type, class, status, params, policy, untrusted,
            currency, created_at
          from actions
          where tenant_id = ${tenantId} and undoes is null
          order by created_at desc, id desc
          limit ${limit}
        ) a
        cross join lateral (
          select
            count(*) filter (where p.created_at > a.created_at - interval '1 hour') as last_hour,
            count(*) as last_day,
            count(*) filter (where p.type = a.type and p.created_at > a.created_at - interval '1 hour') as same_last_hour,
            sum(p.amount_minor) filter (where p.currency = coalesce(a.currency, '') and p.created_at >= (date_trunc('day', a.created_at at time zone 'UTC') at time zone 'UTC') and p.status = any(${SPENDING})) as spent_today,
            count(*) filter (where p.task_id = a.task_id) as task_actions,
            sum(p.amount_minor) filter (where p.task_id = a.task_id and p.currency = coalesce(a.currency, '') and p.status = any(${SPENDING})) as task_spent
          from actions p
          where p.tenant_id = a.tenant_id and p.user_id = a.user_id and p.id <> a.id
            and p.status = any(${COUNTED}) and p.created_at < a.created_at
            and (p.created_at > a.created_at - interval '1 day' or p.task_id = a.task_id)
        ) c
        join tasks t on t.id = a.task_id
        order by a.created_at desc, a.id desc
      `.execute(trx);
      const sealers = await this.keys.readers(
        result.rows.map((row) => personOwner(tenantId, row.user_id)),
      );
      return result.rows.map((row) => {
        const sealer = sealers.get(ownerKey(personOwner(tenantId, row.user_id)))!;
        const task = openRow(sealer, 'tasks', row.task_id, { limits: row.task_limits });
        return {
          ...openRow(sealer, 'actions', row.id, {
            params: row.params,
            untrusted: row.untrusted,
            policy: row.policy,
          }),
          id: row.id,
          taskId: row.task_id,
          userId: row.user_id,
          type: row.type,
          class: row.class,
          status: row.status,
          createdAt: row.created_at,
          grant: {
            actions: row.task_actions_granted,
            limits: task.limits,
            connectionId: row.task_connection_id ?? undefined,
          },
          counts: toActionCounts(row),
        };
      });
    });
  }
}
