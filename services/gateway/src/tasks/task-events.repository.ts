import type { AgentStatus, TaskEvent } from '@heroagent/contracts';
import { withSettings, type Kysely } from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import { personOwner, type PersonalKeys } from '../privacy/personal-keys.js';
import { openRow, sealValues } from '../privacy/sealed-columns.js';
import type { GatewayDatabase } from '../store-tables.js';

/** The task a report is for, as it stands when the report is stored. */
export interface ReportedTask {
  readonly id: string;
  readonly userId: string;
  readonly status: 'running' | 'stopped';
  readonly expiresAt: Date;
  readonly paused: boolean;
}

/** What appending a report came to. */
export type Appended =
  | { readonly outcome: 'stored'; readonly task: ReportedTask; readonly stored: TaskEvent[] }
  | { readonly outcome: 'no-such-task' }
  | { readonly outcome: 'timeline-full' };

/** A stored event: its number, kind and time, and the rest of it as the agent reported it. */
export interface StoredEvent {
  readonly seq: number;
  readonly kind: string;
  readonly at: Date;
  readonly body: unknown;
}

/** How a task's timeline changes the agent's status and summary. */
function progressOf(events: readonly TaskEvent[]): {
  status: AgentStatus | undefined;
  summary: string | undefined;
  started: boolean;
} {
  let status: AgentStatus | undefined;
  let summary: string | undefined;
  let started = false;
  for (const event of events) {
    if (event.kind === 'started') started = true;
    if (event.kind === 'finished') {
      status = 'completed';
      summary = event.summary;
    }
    if (event.kind === 'failed') status = 'failed';
    if (event.kind === 'stopped') status = 'stopped';
  }
  return { status, summary, started };
}

/** Tasks' timelines as the agent reports them, in the tenant's rows only. */
export class TaskEventsRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** The people's data keys: a timeline is sealed with its task's person's key. */
    private readonly keys: PersonalKeys,
  ) {}

  /**
   * Appends a report to the timeline of the task that has this capability, in one transaction
   * that locks the task (so two reports cannot both pass the ceiling): events whose seq is
   * already stored are skipped, a timeline that would exceed `maxEvents` takes nothing, the
   * agent's status follows the new events, and `within` records what the new events call for.
   */
  async append(
    tenantId: string,
    taskId: string,
    capabilityId: string,
    events: readonly TaskEvent[],
    maxEvents: number,
    within: (task: ReportedTask, stored: readonly TaskEvent[]) => InTransaction[],
  ): Promise<Appended> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const task = await trx
        .selectFrom('tasks')
        .select(['id', 'user_id', 'status', 'expires_at'])
        .where('id', '=', taskId)
        .where('capability_id', '=', capabilityId)
        .forUpdate()
        .executeTakeFirst();
      if (task === undefined) return { outcome: 'no-such-task' };
      // Within a report too, the first event with a seq is the one kept.
      const bySeq = new Map<number, TaskEvent>();
      for (const event of events) if (!bySeq.has(event.seq)) bySeq.set(event.seq, event);
      const firsts = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
      const counted = await trx
        .selectFrom('task_events')
        .select((eb) => [
          eb.fn.countAll<string>().as('total'),
          eb.fn
            .count<string>('seq')
            .filterWhere(
              'seq',
              'in',
              firsts.map((event) => event.seq),
            )
            .as('repeated'),
        ])
        .where('task_id', '=', taskId)
        .executeTakeFirstOrThrow();
      const fresh = firsts.length - Number(counted.repeated);
      if (Number(counted.total) + fresh > maxEvents) return { outcome: 'timeline-full' };
      const sealer = await this.keys.forPerson(tenantId, task.user_id);

      const inserted = await trx
        .insertInto('task_events')
        .values(
          firsts.map(({ seq, kind, at, ...body }) =>
            sealValues(sealer, 'task_events', `${taskId}:${seq}`, {
              tenant_id: tenantId,
              task_id: taskId,
              seq,
              kind,
              at: new Date(at),
              body: JSON.stringify(body),
            }),
          ),
        )
        .onConflict((conflict) => conflict.columns(['task_id', 'seq']).doNothing())
        .returning('seq')
        .execute();
      const storedSeqs = new Set(inserted.map((row) => row.seq));
      const stored = firsts.filter((event) => storedSeqs.has(event.seq));

      const progress = progressOf(stored);
      if (progress.status !== undefined) {
        await trx
          .updateTable('tasks')
          .set({
            agent_status: progress.status,
            ...(progress.summary === undefined
              ? {}
              : sealValues(sealer, 'tasks', taskId, { summary: progress.summary })),
          })
          .where('id', '=', taskId)
          .execute();
      } else if (progress.started) {
        await trx
          .updateTable('tasks')
          .set({ agent_status: 'running' })
          .where('id', '=', taskId)
          .where('agent_status', 'is', null)
          .execute();
      }
      const control = await trx
        .selectFrom('tenant_controls')
        .select('agents_paused')
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      const reported: ReportedTask = {
        id: task.id,
        userId: task.user_id,
        status: task.status,
        expiresAt: task.expires_at,
        paused: control?.agents_paused ?? false,
      };
      for (const write of within(reported, stored)) await write(trx);
      return { outcome: 'stored', task: reported, stored };
    });
  }

  /** The events of a task after `after`, in order, at most `limit`. */
  async list(
    tenantId: string,
    taskId: string,
    after: number,
    limit: number,
  ): Promise<StoredEvent[]> {
    const { owner, rows } = await withSettings(
      this.db,
      { 'app.tenant_id': tenantId },
      async (trx) => ({
        owner: await trx
          .selectFrom('tasks')
          .select('user_id')
          .where('id', '=', taskId)
          .executeTakeFirst(),
        rows: await trx
          .selectFrom('task_events')
          .select(['seq', 'kind', 'at', 'body'])
          .where('task_id', '=', taskId)
          .where('seq', '>', after)
          .orderBy('seq')
          .limit(limit)
          .execute(),
      }),
    );
    if (owner === undefined) return [];
    const sealer = await this.keys.reader(personOwner(tenantId, owner.user_id));
    return rows.map((row) => openRow(sealer, 'task_events', `${taskId}:${row.seq}`, row));
  }
}
