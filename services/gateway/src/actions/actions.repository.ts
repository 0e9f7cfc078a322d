import {
  sql,
  withSettings,
  withTenant,
  type Kysely,
  type Selectable,
  type Transaction,
} from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import { ownerKey, personOwner, type PersonalKeys, type Sealer } from '../privacy/personal-keys.js';
import { openRow, sealValues } from '../privacy/sealed-columns.js';
import type { ActionStatus, GatewayDatabase } from '../store-tables.js';
import { executorGone, type ExecutorLease } from './executor-lease.js';
import { outcomeUnknownError, type OutcomeUnknownReason } from './outcome-unknown.js';

/** An action as its repository answers it: its personal columns opened (privacy/). */
export type ActionRow = Selectable<GatewayDatabase['actions']>;

/** Whose action: the person whose key seals its content, in their tenant. */
export interface ActionOwner {
  readonly tenantId: string;
  readonly userId: string;
}

export interface NewAction {
  readonly id: string;
  readonly tenantId: string;
  readonly taskId: string;
  readonly userId: string;
  readonly connectionId: string | null;
  readonly capabilityId: string;
  readonly type: string;
  readonly class: ActionRow['class'];
  readonly idempotencyKey: string;
  /**
   * What makes a repeat of the request the same request (its canonical text): kept only as a
   * digest keyed with the person's data key, which its idempotency check compares.
   */
  readonly requestKey: string;
  readonly params: unknown;
  readonly rationale: string;
  readonly status: ActionStatus;
  readonly policy: unknown;
  readonly amount?: { readonly minor: number; readonly currency: string };
  /** The action this one undoes. */
  readonly undoes?: string;
  /** The parameters that did not come from the person. */
  readonly untrusted?: readonly unknown[];
  /** The action's first audit event. */
  readonly auditEventId: string;
}

/** A send due to leave the outbox, and whose it is. */
export interface DueSend {
  readonly id: string;
  readonly tenant_id: string;
  readonly user_id: string;
}

/** An action settled as failed with an unknown outcome, and why. */
export interface SettledAction {
  readonly row: ActionRow;
  readonly reason: OutcomeUnknownReason;
}

/** The row's values; `executor` is the replica that runs it, if it is inserted `executing`. */
function actionValues(action: NewAction, executor: string | null) {
  return {
    id: action.id,
    tenant_id: action.tenantId,
    task_id: action.taskId,
    user_id: action.userId,
    connection_id: action.connectionId,
    capability_id: action.capabilityId,
    type: action.type,
    class: action.class,
    idempotency_key: action.idempotencyKey,
    params: JSON.stringify(action.params),
    rationale: action.rationale,
    status: action.status,
    policy: JSON.stringify(action.policy),
    amount_minor: action.amount?.minor ?? null,
    currency: action.amount?.currency ?? null,
    audit_event_id: action.auditEventId,
    undoes: action.undoes ?? null,
    untrusted: JSON.stringify(action.untrusted ?? []),
    executor,
  };
}

/** The context of an action's request digest. */
function requestKeyContext(id: string): string {
  return `gateway.actions.request_hash:${id}`;
}

/** Actions as stored, their personal columns opened with their people's keys (each fetched once). */
export async function openActions<R extends Pick<ActionRow, 'id' | 'tenant_id' | 'user_id'>>(
  keys: PersonalKeys,
  rows: readonly R[],
): Promise<R[]> {
  const sealers = await keys.readers(rows.map((row) => personOwner(row.tenant_id, row.user_id)));
  return rows.map((row) =>
    openRow(
      sealers.get(ownerKey(personOwner(row.tenant_id, row.user_id)))!,
      'actions',
      row.id,
      row,
    ),
  );
}

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

/** What the policy's rate and spend conditions, and the capability's limits, count. */
export interface ActionCounts {
  readonly lastHour: number;
  readonly lastDay: number;
  readonly sameActionLastHour: number;
  /** Actions of the task so far (what `maxActions` counts). */
  readonly taskActions: number;
  /** Spent by the task so far, in the given currency. */
  readonly taskSpentMinor: number;
  /** Spent by the person today (UTC), in the given currency. */
  readonly spentTodayMinor: number;
}

// Asked-for actions count towards rates and limits unless they were refused or withdrawn: the
// ones still waiting (for a person, or in the send window) and running count like done ones.
const COUNTED: ActionStatus[] = [
  'executing',
  'completed',
  'failed',
  'pending_approval',
  'approved',
  'scheduled',
  'undone',
];
// Money counts once committed to: spent, being spent, or approved or waiting to be — and failed,
// since a merchant that timed out or a gateway that died mid-call may still have charged.
const SPENDING: ActionStatus[] = [
  'failed',
  'executing',
  'completed',
  'approved',
  'pending_approval',
  'scheduled',
];

/**
 * Admitted but not yet gone: waiting for a person, approved and not yet run, or a send in its
 * window. What a stop, a pause or a lost membership cancels at once.
 */
export const HELD: ActionStatus[] = ['pending_approval', 'approved', 'scheduled'];

/** The actions agents asked for, and their outcomes. */
export class ActionsRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** The sweeper's own role: sees across tenants only the actions its sweeps are about. */
    private readonly sweeper: Kysely<GatewayDatabase>,
    /** This replica's lease: every action moved to `executing` here records its id. */
    private readonly lease: ExecutorLease,
    /** The people's data keys, which seal what an action was given and brought back. */
    private readonly keys: PersonalKeys,
  ) {}

  private sealerOf(owner: ActionOwner): Promise<Sealer> {
    return this.keys.forPerson(owner.tenantId, owner.userId);
  }

  /** Rows as stored, opened with their people's keys. */
  open(rows: readonly ActionRow[]): Promise<ActionRow[]> {
    return openActions(this.keys, rows);
  }

  private async openOne(row: ActionRow | undefined): Promise<ActionRow | undefined> {
    return row === undefined ? undefined : (await this.open([row]))[0];
  }

  /** A row just written, with the personal values it was given (as JSON reads them back). */
  private asWritten(row: ActionRow, action: NewAction): ActionRow {
    const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;
    return {
      ...row,
      params: json(action.params),
      rationale: action.rationale,
      policy: json(action.policy),
      untrusted: json(action.untrusted ?? []),
    };
  }

  private async sealedValues(action: NewAction, executor: string | null) {
    const sealer = await this.sealerOf(action);
    return {
      ...sealValues(sealer, 'actions', action.id, actionValues(action, executor)),
      request_hash: sealer.digest(requestKeyContext(action.id), action.requestKey),
    };
  }

  /**
   * Whether a repeat (same task and idempotency key) asks what the stored action asked. Once the
   * person's key is erased nothing can be compared: a conflict.
   */
  async sameRequest(
    row: Pick<ActionRow, 'id' | 'tenant_id' | 'user_id' | 'request_hash'>,
    requestKey: string,
  ): Promise<boolean> {
    const sealer = await this.keys.reader(personOwner(row.tenant_id, row.user_id));
    return sealer.digestMatches(requestKeyContext(row.id), requestKey, row.request_hash) === true;
  }

  /** Who runs an action inserted or moved with `status`: this replica, if it is `executing`. */
  private executorFor(status: ActionStatus): string | null {
    return status === 'executing' ? this.lease.claim() : null;
  }

  /**
   * Records a new action in the caller's transaction, which holds the person's admission lock and
   * has already looked its idempotency key up.
   */
  async insert(trx: Transaction<GatewayDatabase>, action: NewAction): Promise<ActionRow> {
    const values = await this.sealedValues(action, this.executorFor(action.status));
    const row = await trx
      .insertInto('actions')
      .values(values)
      .returningAll()
      .executeTakeFirstOrThrow();
    return this.asWritten(row, action);
  }

  /**
   * Records a new request, or finds the one its task's idempotency key already names (a retry).
   * `within` runs in the same transaction, only when the row is new. (Undo: a person's request,
   * outside the agent's admission.)
   */
  async begin(
    action: Omit<NewAction, 'auditEventId'>,
    within: InTransaction & { readonly eventId: string },
  ): Promise<{ created: boolean; row: ActionRow }> {
    const values = await this.sealedValues(
      { ...action, auditEventId: within.eventId },
      this.executorFor(action.status),
    );
    return withTenant(this.db, action.tenantId, async (trx) => {
      const inserted = await trx
        .insertInto('actions')
        .values(values)
        .onConflict((conflict) => conflict.columns(['task_id', 'idempotency_key']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted !== undefined) {
        await within(trx);
        return {
          created: true,
          row: this.asWritten(inserted, { ...action, auditEventId: within.eventId }),
        };
      }
      const existing = await trx
        .selectFrom('actions')
        .selectAll()
        .where('task_id', '=', action.taskId)
        .where('idempotency_key', '=', action.idempotencyKey)
        .executeTakeFirstOrThrow();
      return { created: false, row: (await this.openOne(existing))! };
    });
  }

  /**
   * Moves an action from `from` to `to` in the caller's transaction (its latest audit event, and
   * for an ending its error, sealed, with it): false if it was no longer `from` — someone else
   * moved it. Moved to `executing`, it records this replica as its executor.
   */
  async move(
    trx: Transaction<GatewayDatabase>,
    action: { readonly id: string; readonly tenant_id: string; readonly user_id: string },
    from: ActionStatus,
    to: ActionStatus,
    change: { eventId?: string; error?: unknown; now: Date },
  ): Promise<boolean> {
    const ends = to === 'cancelled' || to === 'failed' || to === 'completed';
    const error =
      change.error === undefined
        ? {}
        : sealValues(
            await this.sealerOf({ tenantId: action.tenant_id, userId: action.user_id }),
            'actions',
            action.id,
            {
              error: JSON.stringify(change.error),
            },
          );
    const result = await trx
      .updateTable('actions')
      .set({
        status: to,
        updated_at: change.now,
        ...(change.eventId === undefined ? {} : { audit_event_id: change.eventId }),
        ...error,
        ...(ends ? { completed_at: change.now } : {}),
        ...(to === 'executing' ? { executor: this.executorFor(to) } : {}),
      })
      .where('id', '=', action.id)
      .where('status', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Holds an allowed send in the outbox until `releaseAt`, in the caller's transaction. */
  async hold(
    trx: Transaction<GatewayDatabase>,
    action: { readonly id: string; readonly tenant_id: string; readonly user_id: string },
    from: ActionStatus,
    hold: { releaseAt: Date; result: unknown; eventId: string; now: Date },
  ): Promise<boolean> {
    const sealer = await this.sealerOf({ tenantId: action.tenant_id, userId: action.user_id });
    const result = await trx
      .updateTable('actions')
      .set({
        status: 'scheduled',
        release_at: hold.releaseAt,
        ...sealValues(sealer, 'actions', action.id, { result: JSON.stringify(hold.result) }),
        audit_event_id: hold.eventId,
        updated_at: hold.now,
      })
      .where('id', '=', action.id)
      .where('status', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Cancels, in the caller's transaction, every held action (waiting for a person, approved and
   * not yet run, or a send in its window) of a task, of a person, or of the whole tenant the
   * transaction runs as; answers those it cancelled. The error is the gateway's own words (why
   * they were cancelled), kept in clear.
   */
  async cancelHeld(
    trx: Transaction<GatewayDatabase>,
    scope: { readonly taskId?: string; readonly userId?: string },
    error: { readonly code: string; readonly message: string },
    now: Date,
  ): Promise<ActionRow[]> {
    let query = trx
      .updateTable('actions')
      .set({
        status: 'cancelled',
        error: JSON.stringify(error),
        updated_at: now,
        completed_at: now,
      })
      .where('status', 'in', HELD);
    if (scope.taskId !== undefined) query = query.where('task_id', '=', scope.taskId);
    if (scope.userId !== undefined) query = query.where('user_id', '=', scope.userId);
    return this.open(await query.returningAll().execute());
  }

  /** Points an action at its latest audit event, in the caller's transaction. */
  async recordedAs(trx: Transaction<GatewayDatabase>, id: string, eventId: string): Promise<void> {
    await trx
      .updateTable('actions')
      .set({ audit_event_id: eventId })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Moves an action from `from` to its outcome, with its audit event, in one transaction: false if
   * it was no longer `from`.
   */
  async finish(
    owner: ActionOwner,
    id: string,
    from: ActionStatus,
    outcome: {
      status: ActionStatus;
      result?: unknown;
      undoState?: unknown;
      error?: unknown;
    },
    within: InTransaction & { readonly eventId: string },
    now: Date = new Date(),
  ): Promise<boolean> {
    const sealer = await this.sealerOf(owner);
    const content = sealValues(sealer, 'actions', id, {
      result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
      undo_state: outcome.undoState === undefined ? null : JSON.stringify(outcome.undoState),
      // A provider's message may repeat what it was sent.
      error: outcome.error === undefined ? null : JSON.stringify(outcome.error),
    });
    return withSettings(this.db, { 'app.tenant_id': owner.tenantId }, async (trx) => {
      const moved = await trx
        .updateTable('actions')
        .set({
          status: outcome.status,
          ...content,
          audit_event_id: within.eventId,
          updated_at: now,
          completed_at: now,
        })
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      if (moved.numUpdatedRows === 0n) return false;
      await within(trx);
      return true;
    });
  }

  /**
   * The sweep, across tenants: actions `executing` under a replica that is gone (its lease free),
   * whatever their age, and — for rows from before executors were recorded, and as a backstop —
   * any still `executing` since before `staleBefore`. Each is marked failed with an unknown
   * outcome and recorded by `record`, in one transaction. Only a row still `executing` is changed
   * (Postgres checks again after the row lock), so two sweeps at once settle each action once.
   */
  async failAbandoned(
    staleBefore: Date,
    now: Date,
    record: (settled: SettledAction) => InTransaction,
  ): Promise<SettledAction[]> {
    return this.sweeper.transaction().execute(async (trx) => {
      // The shared lease locks taken here are held until this transaction ends.
      const gone = (
        await trx
          .selectFrom(
            trx
              .selectFrom('actions')
              .select('executor')
              .distinct()
              .where('status', '=', 'executing')
              .where('executor', 'is not', null)
              .as('running'),
          )
          .select('executor')
          .where(executorGone())
          .execute()
      ).map((row) => row.executor!);
      const goneError = JSON.stringify(outcomeUnknownError('executor_gone'));
      const staleError = JSON.stringify(outcomeUnknownError('ran_too_long'));
      const rows = await trx
        .updateTable('actions')
        .set({
          status: 'failed',
          error: sql<string>`case when executor = any(${gone}::uuid[])
            then ${goneError}::jsonb else ${staleError}::jsonb end`,
          updated_at: now,
          completed_at: now,
        })
        .where('status', '=', 'executing')
        .where((eb) =>
          eb.or([
            sql<boolean>`executor = any(${gone}::uuid[])`,
            eb('updated_at', '<', staleBefore),
          ]),
        )
        .returningAll()
        .execute();
      const opened = await this.open(rows);
      const settled = opened.map((row) => ({
        row,
        reason:
          row.executor !== null && gone.includes(row.executor)
            ? ('executor_gone' as const)
            : ('ran_too_long' as const),
      }));
      for (const action of settled) await record(action)(trx);
      return settled;
    });
  }

  /**
   * In its tenant's transaction: the action, if it is still `executing` under a replica that is
   * gone, marked failed with an unknown outcome and recorded by `record`; undefined if it is not
   * (its replica is alive, or it has moved on — settled by someone else, perhaps at this moment).
   */
  async failIfExecutorGone(
    tenantId: string,
    id: string,
    now: Date,
    record: (settled: SettledAction) => InTransaction,
  ): Promise<SettledAction | undefined> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      // One row, found by its key before the lease is tried.
      const row = await trx
        .updateTable('actions')
        .set({
          status: 'failed',
          error: JSON.stringify(outcomeUnknownError('executor_gone')),
          updated_at: now,
          completed_at: now,
        })
        .where('id', '=', id)
        .where('status', '=', 'executing')
        .where(executorGone())
        .returningAll()
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const settled = { row: (await this.openOne(row))!, reason: 'executor_gone' as const };
      await record(settled)(trx);
      return settled;
    });
  }

  /**
   * The sends due by `now`, across tenants: only where they are. Each is released in a
   * transaction of its tenant, under its person's lock, after the checks are made again.
   */
  async dueSends(now: Date, limit: number): Promise<DueSend[]> {
    // The sweeper only lists them; each is claimed in its tenant's transaction.
    return this.sweeper
      .selectFrom('actions')
      .select(['id', 'tenant_id', 'user_id'])
      .where('status', '=', 'scheduled')
      .where('release_at', '<=', now)
      .orderBy('release_at')
      .limit(limit)
      .execute();
  }

  /** Cancels a send still in the outbox, with its audit event; false once it has left. */
  async cancelScheduled(
    tenantId: string,
    id: string,
    within: InTransaction & { readonly eventId: string },
    now: Date = new Date(),
  ): Promise<boolean> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const result = await trx
        .updateTable('actions')
        .set({
          status: 'cancelled',
          audit_event_id: within.eventId,
          updated_at: now,
          completed_at: now,
        })
        .where('id', '=', id)
        .where('status', '=', 'scheduled')
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await within(trx);
      return true;
    });
  }

  /** Marks an undo done and the action it undid undone, with the audit event, in one transaction. */
  async completeUndo(
    tenantId: string,
    undoId: string,
    originalId: string,
    within: InTransaction & { readonly eventId: string },
    now: Date = new Date(),
  ): Promise<boolean> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const undone = await trx
        .updateTable('actions')
        .set({ status: 'undone', updated_at: now })
        .where('id', '=', originalId)
        .where('status', '=', 'completed')
        .executeTakeFirst();
      if (undone.numUpdatedRows === 0n) return false;
      await trx
        .updateTable('actions')
        .set({
          status: 'completed',
          audit_event_id: within.eventId,
          updated_at: now,
          completed_at: now,
        })
        .where('id', '=', undoId)
        .where('status', '=', 'executing')
        .execute();
      await within(trx);
      return true;
    });
  }

  async get(tenantId: string, id: string): Promise<ActionRow | undefined> {
    const row = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx.selectFrom('actions').selectAll().where('id', '=', id).executeTakeFirst(),
    );
    return this.openOne(row);
  }

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

/** What `countsQuery` selects (Postgres counts arrive as strings). */
export interface CountsRow {
  last_hour: string;
  last_day: string;
  same_last_hour: string;
  task_actions: string;
  task_spent: string | null;
  spent_today: string | null;
}

/** The query behind `ActionCounts`, one row: also run inside other reads of the same tenant. */
export function countsQuery(ask: {
  tenantId: string;
  userId: string;
  taskId: string;
  type: string;
  currency: string | undefined;
  now: Date;
  /** An action not to count (the held one being checked again). */
  excluding?: string;
}) {
  const { tenantId, userId, taskId, type, currency, now } = ask;
  const excluding = ask.excluding === undefined ? sql`` : sql` and id <> ${ask.excluding}`;
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const dayAgo = new Date(now.getTime() - 86_400_000);
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return sql<CountsRow>`
    select
      count(*) filter (where user_id = ${userId} and created_at > ${hourAgo}) as last_hour,
      count(*) filter (where user_id = ${userId} and created_at > ${dayAgo}) as last_day,
      count(*) filter (where user_id = ${userId} and type = ${type} and created_at > ${hourAgo}) as same_last_hour,
      count(*) filter (where task_id = ${taskId}) as task_actions,
      sum(amount_minor) filter (where task_id = ${taskId} and currency = ${currency ?? ''} and status = any(${SPENDING})) as task_spent,
      sum(amount_minor) filter (where user_id = ${userId} and currency = ${currency ?? ''} and created_at >= ${today} and status = any(${SPENDING})) as spent_today
    from actions
    where tenant_id = ${tenantId} and status = any(${COUNTED}) and (created_at > ${dayAgo} or task_id = ${taskId})${excluding}
  `;
}

export function toActionCounts(row: CountsRow): ActionCounts {
  return {
    lastHour: Number(row.last_hour),
    lastDay: Number(row.last_day),
    sameActionLastHour: Number(row.same_last_hour),
    taskActions: Number(row.task_actions),
    taskSpentMinor: Number(row.task_spent ?? 0),
    spentTodayMinor: Number(row.spent_today ?? 0),
  };
}
