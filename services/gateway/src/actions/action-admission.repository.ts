import { sql, withSettings, type Kysely } from '@heroagent/db';
import type { GatewayDatabase } from '../store-tables.js';
import { standingOf, type Standing } from '../tasks/tasks.repository.js';
import {
  countsQuery,
  toActionCounts,
  type ActionCounts,
  type ActionRow,
  type CountsRow,
} from './actions.repository.js';

/** Everything the decision on a new action reads, as of one moment of one tenant. */
export interface AdmissionReads {
  /** Whether the capability's task is running in a tenant whose agents are not paused. */
  readonly standing: Standing;
  /** The action the task's idempotency key already names (a retry), if any. */
  readonly earlier: ActionRow | undefined;
  /** The person's role, or undefined if they are not (or no longer) a member. */
  readonly role: GatewayDatabase['memberships']['role'] | undefined;
  readonly counts: ActionCounts;
  /** The text of the tenant's current policy ('' when it has none). */
  readonly policyText: string;
}

/**
 * The reads before a policy decision, in one tenant transaction (two statements) instead of one
 * transaction each: they sit on every action's request path, where round trips are the cost.
 */
export class ActionAdmissionRepository {
  constructor(private readonly db: Kysely<GatewayDatabase>) {}

  async read(ask: {
    readonly tenantId: string;
    readonly userId: string;
    readonly taskId: string;
    readonly capabilityId: string;
    readonly idempotencyKey: string;
    readonly type: string;
    readonly currency: string | undefined;
    readonly now: Date;
  }): Promise<AdmissionReads> {
    const { tenantId, userId, taskId, capabilityId } = ask;
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const earlier = await trx
        .selectFrom('actions')
        .selectAll()
        .where('task_id', '=', taskId)
        .where('idempotency_key', '=', ask.idempotencyKey)
        .executeTakeFirst();
      const counts = countsQuery(ask);
      const result = await sql<
        CountsRow & {
          task_status: string | null;
          agents_paused: boolean | null;
          role: AdmissionReads['role'] | null;
          policy_text: string | null;
        }
      >`
        select
          (select status from tasks where id = ${taskId} and capability_id = ${capabilityId}) as task_status,
          (select agents_paused from tenant_controls where tenant_id = ${tenantId}) as agents_paused,
          (select role from memberships where tenant_id = ${tenantId} and user_id = ${userId}) as role,
          (select text from tenant_policies where tenant_id = ${tenantId} order by version desc limit 1) as policy_text,
          counts.*
        from (${counts}) counts
      `.execute(trx);
      const row = result.rows[0]!;
      return {
        standing: standingOf(row.task_status, row.agents_paused),
        earlier,
        role: row.role ?? undefined,
        counts: toActionCounts(row),
        policyText: row.policy_text ?? '',
      };
    });
  }
}
