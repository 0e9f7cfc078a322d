import { randomUUID } from 'node:crypto';
import type { Revocation } from '@heroagent/contracts';
import { sql, withTenant, type Kysely, type Transaction } from '@heroagent/db';
import type { VaultProxyDatabase } from '../store-tables.js';

type Table = VaultProxyDatabase['revocations'];
type Row = Omit<Table, 'requested_at' | 'attempts' | 'next_attempt_at'> & {
  requested_at: Date;
  attempts: number;
  next_attempt_at: Date;
};

const COLUMNS = [
  'id',
  'tenant_id',
  'user_id',
  'connection_id',
  'provider',
  'scopes',
  'reason',
  'requested_at',
  'attempts',
  'next_attempt_at',
  'last_error',
  'completed_at',
  'provider_status',
  'provider_answer',
  'reported_at',
] as const;

/** A revocation as callers see it. */
export function revocationView(row: Row): Revocation {
  const pending = row.completed_at === null;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    connectionId: row.connection_id,
    provider: row.provider as Revocation['provider'],
    scopes: row.scopes,
    reason: row.reason,
    status: pending ? 'pending' : 'completed',
    requestedAt: row.requested_at.toISOString(),
    attempts: row.attempts,
    ...(pending ? { nextAttemptAt: row.next_attempt_at.toISOString() } : {}),
    ...(pending && row.last_error !== null ? { lastError: row.last_error } : {}),
    ...(row.completed_at === null ? {} : { completedAt: row.completed_at.toISOString() }),
    ...(row.provider_status === null ? {} : { providerStatus: row.provider_status }),
    ...(row.provider_answer === null ? {} : { providerAnswer: row.provider_answer }),
  };
}

/** A revocation the worker claimed: nobody else tries it until its lease runs out. */
export type ClaimedRevocation = Row;

/** What the provider finally said. */
export interface RevocationResult {
  readonly providerStatus: number | null;
  readonly providerAnswer: NonNullable<Table['provider_answer']>;
}

/**
 * Revocations and their receipts (`revocations`, under row-level security like every table with
 * tenant data), and the work across tenants (`revocation_work`: which revocation of which tenant
 * is due when, or waits to be reported). A connection has at most one revocation pending. The
 * workers claim due work with `for update skip locked` and a lease (moved past the longest an
 * attempt takes), so replicas never try the same one at once and a replica that dies mid-attempt
 * leaves it to the others when the lease runs out. Everything else runs as the tenant.
 */
export class RevocationsRepository {
  constructor(private readonly db: Kysely<VaultProxyDatabase>) {}

  /**
   * Within the transaction (as the tenant) that marks the connection `revoking`: queues its
   * revocation, or answers the one already pending (an erasure makes a pending disconnect an
   * erasure).
   */
  async enqueue(
    trx: Transaction<VaultProxyDatabase>,
    revocation: Pick<
      Row,
      'tenant_id' | 'user_id' | 'connection_id' | 'provider' | 'scopes' | 'reason'
    >,
  ): Promise<Revocation> {
    const row = await trx
      .insertInto('revocations')
      .values({
        id: randomUUID(),
        ...revocation,
        last_error: null,
        completed_at: null,
        provider_status: null,
        provider_answer: null,
        reported_at: null,
      })
      .onConflict((conflict) =>
        conflict
          .column('connection_id')
          .where('completed_at', 'is', null)
          .doUpdateSet((eb) => ({
            reason: sql<
              Table['reason']
            >`case when ${eb.ref('excluded.reason')} = 'disconnect' then revocations.reason else ${eb.ref('excluded.reason')} end`,
          })),
      )
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('revocation_work')
      .values({ revocation_id: row.id, tenant_id: row.tenant_id, stage: 'revoke' })
      .onConflict((conflict) => conflict.column('revocation_id').doNothing())
      .execute();
    return revocationView(row);
  }

  /** The latest revocation of each of these connections. */
  async latest(
    tenantId: string,
    connectionIds: readonly string[],
  ): Promise<Map<string, Revocation>> {
    if (connectionIds.length === 0) return new Map();
    const rows = await withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('revocations')
        .select(COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where('connection_id', 'in', connectionIds)
        .orderBy('requested_at')
        .execute(),
    );
    return new Map(rows.map((row) => [row.connection_id, revocationView(row)]));
  }

  /** Claims up to `limit` due revocations for `leaseMs`, each counted as one more attempt. */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedRevocation[]> {
    const lease = `${leaseMs} milliseconds`;
    const { rows: claimed } = await sql<{ revocation_id: string; tenant_id: string }>`
      update revocation_work set due_at = now() + ${lease}::interval
      where revocation_id in (
        select revocation_id from revocation_work
        where stage = 'revoke' and due_at <= now()
        order by due_at
        limit ${limit}
        for update skip locked)
      returning revocation_id, tenant_id`.execute(this.db);
    const revocations: ClaimedRevocation[] = [];
    for (const work of claimed) {
      const row = await withTenant(this.db, work.tenant_id, (trx) =>
        trx
          .updateTable('revocations')
          .set((eb) => ({
            attempts: eb('attempts', '+', 1),
            next_attempt_at: sql<Date>`now() + ${lease}::interval`,
          }))
          .where('id', '=', work.revocation_id)
          .where('completed_at', 'is', null)
          .returning(COLUMNS)
          .executeTakeFirst(),
      );
      if (row !== undefined) revocations.push(row);
    }
    return revocations;
  }

  /** The provider did not confirm: try again after `delayMs`, saying why. */
  async retryLater(revocation: ClaimedRevocation, delayMs: number, error: string): Promise<void> {
    const delay = `${Math.round(delayMs)} milliseconds`;
    await withTenant(this.db, revocation.tenant_id, async (trx) => {
      await trx
        .updateTable('revocations')
        .set({
          next_attempt_at: sql<Date>`now() + ${delay}::interval`,
          last_error: error.slice(0, 300),
        })
        .where('id', '=', revocation.id)
        .where('completed_at', 'is', null)
        .execute();
      await trx
        .updateTable('revocation_work')
        .set({ due_at: sql<Date>`now() + ${delay}::interval` })
        .where('revocation_id', '=', revocation.id)
        .where('stage', '=', 'revoke')
        .execute();
    });
  }

  /**
   * The provider confirmed (or had nothing to revoke): the receipt is written and waits to be
   * reported, and the connection is `revoked`, or deleted when its person or tenant is erased, in
   * one transaction.
   */
  async complete(revocation: ClaimedRevocation, result: RevocationResult): Promise<Revocation> {
    return withTenant(this.db, revocation.tenant_id, async (trx) => {
      const row = await trx
        .updateTable('revocations')
        .set({
          completed_at: new Date(),
          provider_status: result.providerStatus,
          provider_answer: result.providerAnswer,
          last_error: null,
        })
        .where('id', '=', revocation.id)
        .returning(COLUMNS)
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('revocation_work')
        .set({ stage: 'report', due_at: new Date() })
        .where('revocation_id', '=', revocation.id)
        .execute();
      if (row.reason === 'disconnect') {
        await trx
          .updateTable('connections')
          .set({ status: 'revoked', revoked_at: new Date(), updated_at: new Date() })
          .where('tenant_id', '=', revocation.tenant_id)
          .where('id', '=', revocation.connection_id)
          .execute();
      } else {
        await trx
          .deleteFrom('connections')
          .where('tenant_id', '=', revocation.tenant_id)
          .where('id', '=', revocation.connection_id)
          .execute();
      }
      return revocationView(row);
    });
  }

  /** How many revocations of a tenant are still to be confirmed (its last erasure step waits). */
  async pendingIn(tenantId: string): Promise<number> {
    const row = await this.db
      .selectFrom('revocation_work')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('tenant_id', '=', tenantId)
      .where('stage', '=', 'revoke')
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Completed revocations not yet recorded as audit events, oldest first. */
  async unreported(limit: number): Promise<Revocation[]> {
    const work = await this.db
      .selectFrom('revocation_work')
      .select(['revocation_id', 'tenant_id'])
      .where('stage', '=', 'report')
      .orderBy('due_at')
      .limit(limit)
      .execute();
    const receipts: Revocation[] = [];
    for (const [tenantId, ids] of byTenant(work)) {
      const rows = await withTenant(this.db, tenantId, (trx) =>
        trx.selectFrom('revocations').select(COLUMNS).where('id', 'in', ids).execute(),
      );
      receipts.push(...rows.map(revocationView));
    }
    return receipts.sort((a, b) => (a.completedAt ?? '').localeCompare(b.completedAt ?? ''));
  }

  /** These receipts are recorded: marked reported, and no longer listed. */
  async acknowledge(ids: readonly string[]): Promise<number> {
    const work = await this.db
      .selectFrom('revocation_work')
      .select(['revocation_id', 'tenant_id'])
      .where('revocation_id', 'in', ids)
      .where('stage', '=', 'report')
      .execute();
    let acknowledged = 0;
    for (const [tenantId, reported] of byTenant(work)) {
      acknowledged += await withTenant(this.db, tenantId, async (trx) => {
        await trx
          .updateTable('revocations')
          .set({ reported_at: new Date() })
          .where('id', 'in', reported)
          .execute();
        const done = await trx
          .deleteFrom('revocation_work')
          .where('revocation_id', 'in', reported)
          .where('stage', '=', 'report')
          .executeTakeFirst();
        return Number(done.numDeletedRows);
      });
    }
    return acknowledged;
  }
}

function byTenant(
  work: readonly { revocation_id: string; tenant_id: string }[],
): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const { revocation_id, tenant_id } of work) {
    grouped.set(tenant_id, [...(grouped.get(tenant_id) ?? []), revocation_id]);
  }
  return grouped;
}
