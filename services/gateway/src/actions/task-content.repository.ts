import { capabilityLimitsSchema } from '@heroagent/contracts';
import type { Transaction } from '@heroagent/db';
import { readContent, type TaskContent } from '../policy/provenance.js';
import type { PersonalKeys } from '../privacy/personal-keys.js';
import type { GatewayDatabase } from '../store-tables.js';
import { openTask } from '../tasks/tasks.repository.js';
import { openActions } from './actions.repository.js';

/**
 * What the gateway knows of a task when one of its writes is decided: the person's words, their
 * own addresses, the recipients they allowed, and every message and event the task's reads
 * returned (as stored with each read: exactly what the agent saw).
 */
export class TaskContentRepository {
  constructor(private readonly keys: PersonalKeys) {}

  /** In the caller's transaction (the admission's, which runs as the task's tenant). */
  async read(trx: Transaction<GatewayDatabase>, taskId: string): Promise<TaskContent | undefined> {
    const stored = await trx
      .selectFrom('tasks as t')
      .leftJoin('users as u', 'u.id', 't.user_id')
      .select([
        't.id',
        't.tenant_id',
        't.user_id',
        't.request',
        't.account',
        't.limits',
        't.time_zone',
        'u.email',
      ])
      .where('t.id', '=', taskId)
      .executeTakeFirst();
    if (stored === undefined) return undefined;
    const task = await openTask(this.keys, stored);
    const reads = await openActions(
      this.keys,
      await trx
        .selectFrom('actions')
        .select(['id', 'tenant_id', 'user_id', 'type', 'params', 'result'])
        .where('task_id', '=', taskId)
        .where('class', '=', 'read')
        .where('status', '=', 'completed')
        .orderBy('created_at')
        .execute(),
    );
    const limits = capabilityLimitsSchema.safeParse(task.limits);
    return {
      request: task.request,
      ownAddresses: [task.account, task.email].flatMap((address) =>
        address === null ? [] : [address.toLowerCase()],
      ),
      namedRecipients: limits.success ? (limits.data.recipients ?? []) : [],
      ...readContent(reads),
      timeZone: task.time_zone ?? undefined,
    };
  }
}
