import {
  sql,
  withSettings,
  withTenant,
  type Kysely,
  type Selectable,
  type Transaction,
} from '@heroagent/db';
import type { InTransaction, RecordedChange } from '../audit/audit-recorder.js';
import { ownerKey, personOwner, type PersonalKeys, type Sealer } from '../privacy/personal-keys.js';
import { openRow, sealValues } from '../privacy/sealed-columns.js';
import type { ActionStatus, GatewayDatabase } from '../store-tables.js';
import { HELD } from './action-counts.js';
import type { ExecutorLease } from './executor-lease.js';

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

/** The actions agents asked for, and their outcomes. */
export class ActionsRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
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
   * Records a new action and its first audit event in the caller's transaction, in one statement;
   * the transaction holds the person's admission lock and has already looked its idempotency key
   * up.
   */
  async insert(
    trx: Transaction<GatewayDatabase>,
    action: NewAction,
    event: RecordedChange,
  ): Promise<ActionRow> {
    const [values, recorded] = await Promise.all([
      this.sealedValues(action, this.executorFor(action.status)),
      event.outboxRow(),
    ]);
    const row = await trx
      .with('recorded', (db) => db.insertInto('audit_outbox').values(recorded))
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
   * Moves an action from `from` to its outcome, with its audit event, in one statement (one round
   * trip, one transaction: `finish_action`): false if it was no longer `from`.
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
    event: RecordedChange,
    now: Date = new Date(),
  ): Promise<boolean> {
    const sealer = await this.sealerOf(owner);
    const content = sealValues(sealer, 'actions', id, {
      result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
      undo_state: outcome.undoState === undefined ? null : JSON.stringify(outcome.undoState),
      // A provider's message may repeat what it was sent.
      error: outcome.error === undefined ? null : JSON.stringify(outcome.error),
    });
    const { envelope } = await event.outboxRow();
    const { rows } = await sql<{ moved: boolean }>`
      select finish_action(${owner.tenantId}, ${id}, ${from}, ${outcome.status},
        ${content.result}::jsonb, ${content.undo_state}::jsonb, ${content.error}::jsonb,
        ${event.eventId}, ${envelope}::jsonb, ${now}) as moved`.execute(this.db);
    return rows[0]?.moved === true;
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
}
