import { withSettings, type Kysely } from '@heroagent/db';
import { personOwner, type PersonalKeys } from '../privacy/personal-keys.js';
import { openRow } from '../privacy/sealed-columns.js';
import type { GatewayDatabase } from '../store-tables.js';

/** One task of a person, as their export carries it. */
export interface ExportedTask {
  id: string;
  title: string;
  request: string | null;
  actions: string[];
  status: string;
  agentStatus: string | null;
  summary: string | null;
  createdAt: string;
  expiresAt: string;
  stoppedAt: string | null;
  stopReason: string | null;
  timeline: { seq: number; kind: string; at: string; [field: string]: unknown }[];
  actionsTaken: {
    id: string;
    type: string;
    status: string;
    rationale: string;
    params: unknown;
    result: unknown;
    createdAt: string;
    completedAt: string | null;
  }[];
}

/**
 * A person's task history in one tenant, for "export my data": what they asked, what the agent
 * reported, and every action taken for them with its parameters and (minimised) result. Never a
 * capability, an idempotency key or undo state.
 */
export class MyTaskHistory {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    private readonly keys: PersonalKeys,
  ) {}

  async of(tenantId: string, userId: string): Promise<ExportedTask[]> {
    // Everything here is this person's, sealed with their key in this tenant.
    const sealer = await this.keys.reader(personOwner(tenantId, userId));
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const storedTasks = await trx
        .selectFrom('tasks')
        .select([
          'id',
          'title',
          'request',
          'actions',
          'status',
          'agent_status',
          'summary',
          'created_at',
          'expires_at',
          'stopped_at',
          'stop_reason',
        ])
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .orderBy('created_at', 'asc')
        .execute();
      if (storedTasks.length === 0) return [];
      const tasks = storedTasks.map((task) => openRow(sealer, 'tasks', task.id, task));
      const ids = tasks.map((task) => task.id);
      const [storedEvents, storedActions] = await Promise.all([
        trx
          .selectFrom('task_events')
          .select(['task_id', 'seq', 'kind', 'at', 'body'])
          .where('task_id', 'in', ids)
          .orderBy('task_id')
          .orderBy('seq')
          .execute(),
        trx
          .selectFrom('actions')
          .select([
            'id',
            'task_id',
            'type',
            'status',
            'rationale',
            'params',
            'result',
            'created_at',
            'completed_at',
          ])
          .where('task_id', 'in', ids)
          .orderBy('created_at')
          .execute(),
      ]);
      const events = storedEvents.map((event) =>
        openRow(sealer, 'task_events', `${event.task_id}:${event.seq}`, event),
      );
      const actions = storedActions.map((action) => openRow(sealer, 'actions', action.id, action));
      return tasks.map((task) => ({
        id: task.id,
        title: task.title,
        request: task.request,
        actions: task.actions,
        status: task.status,
        agentStatus: task.agent_status,
        summary: task.summary,
        createdAt: task.created_at.toISOString(),
        expiresAt: task.expires_at.toISOString(),
        stoppedAt: task.stopped_at?.toISOString() ?? null,
        stopReason: task.stop_reason,
        timeline: events
          .filter((event) => event.task_id === task.id)
          .map((event) => ({
            ...(event.body as Record<string, unknown>),
            seq: event.seq,
            kind: event.kind,
            at: event.at.toISOString(),
          })),
        actionsTaken: actions
          .filter((action) => action.task_id === task.id)
          .map((action) => ({
            id: action.id,
            type: action.type,
            status: action.status,
            rationale: action.rationale,
            params: action.params,
            result: action.result,
            createdAt: action.created_at.toISOString(),
            completedAt: action.completed_at?.toISOString() ?? null,
          })),
      }));
    });
  }
}
