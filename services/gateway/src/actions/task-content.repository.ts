import { capabilityLimitsSchema } from '@heroagent/contracts';
import { withTenant, type Kysely } from '@heroagent/db';
import { contentItems, type TaskContent } from '../policy/provenance.js';
import type { GatewayDatabase } from '../store-tables.js';

/**
 * What the gateway knows of a task when one of its writes is decided: the person's words, their
 * own addresses, the recipients they allowed, and every message and event the task's reads
 * returned (as stored with each read: exactly what the agent saw).
 */
export class TaskContentRepository {
  constructor(private readonly db: Kysely<GatewayDatabase>) {}

  async of(tenantId: string, taskId: string): Promise<TaskContent | undefined> {
    return withTenant(this.db, tenantId, async (trx) => {
      const task = await trx
        .selectFrom('tasks as t')
        .leftJoin('users as u', 'u.id', 't.user_id')
        .select(['t.request', 't.account', 't.limits', 't.time_zone', 'u.email'])
        .where('t.id', '=', taskId)
        .executeTakeFirst();
      if (task === undefined) return undefined;
      const reads = await trx
        .selectFrom('actions')
        .select(['type', 'result'])
        .where('task_id', '=', taskId)
        .where('class', '=', 'read')
        .where('status', '=', 'completed')
        .orderBy('created_at')
        .execute();
      const limits = capabilityLimitsSchema.safeParse(task.limits);
      return {
        request: task.request,
        ownAddresses: [task.account, task.email].flatMap((address) =>
          address === null ? [] : [address.toLowerCase()],
        ),
        namedRecipients: limits.success ? (limits.data.recipients ?? []) : [],
        items: contentItems(reads),
        timeZone: task.time_zone ?? undefined,
      };
    });
  }
}
