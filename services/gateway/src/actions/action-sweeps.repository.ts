import { sql, withSettings, type Kysely } from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import type { PersonalKeys } from '../privacy/personal-keys.js';
import type { GatewayDatabase } from '../store-tables.js';
import { openActions, type ActionRow } from './actions.repository.js';
import { executorGone } from './executor-lease.js';
import { outcomeUnknownError, type OutcomeUnknownReason } from './outcome-unknown.js';

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

/** What the sweeps find across tenants: actions abandoned by a gone replica, and sends due. */
export class ActionSweepsRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** The sweeper's own role: sees across tenants only the actions its sweeps are about. */
    private readonly sweeper: Kysely<GatewayDatabase>,
    /** The people's data keys, which open what a settled action holds. */
    private readonly keys: PersonalKeys,
  ) {}

  private open(rows: readonly ActionRow[]): Promise<ActionRow[]> {
    return openActions(this.keys, rows);
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
      const settled = { row: (await this.open([row]))[0]!, reason: 'executor_gone' as const };
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
}
