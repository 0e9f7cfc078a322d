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
  'secret_id',
  'claim',
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

/** Revocation work that is due: which revocation, of which tenant and connection. */
export interface DueRevocation {
  readonly revocationId: string;
  readonly tenantId: string;
  readonly connectionId: string;
}

/** A revocation claimed by one attempt (its `claim`): nobody else tries it until its lease ends. */
export type ClaimedRevocation = Row & { claim: string };

/** What the provider finally said. */
export interface RevocationResult {
  readonly providerStatus: number | null;
  readonly providerAnswer: NonNullable<Table['provider_answer']>;
}

/**
 * Revocations and their receipts (`revocations`, under row-level security like every table with
 * tenant data), and the work across tenants (`revocation_work`: which revocation of which tenant
 * is due when, or waits to be reported). A connection has at most one revocation pending. A
 * worker picks due work one revocation at a time (`for update skip locked`, its due time moved by
 * the lease), then, holding the connection's lock, claims it: a new claim id and a lease from
 * then, only while it is unfinished and due. Retrying and completing name that claim, so an
 * attempt that lost its claim (its replica was cut off past the lease and another took over)
 * changes nothing, and a revocation completes once. Everything else runs as the tenant.
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
      'tenant_id' | 'user_id' | 'connection_id' | 'secret_id' | 'provider' | 'scopes' | 'reason'
    >,
  ): Promise<Revocation> {
    const row = await trx
      .insertInto('revocations')
      .values({
        id: randomUUID(),
        ...revocation,
        claim: null,
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

  /**
   * The revocation due first, if any, its work put off by `leaseMs` so other replicas look at
   * others meanwhile. Only a hint: {@link claim} decides.
   */
  async nextDue(leaseMs: number): Promise<DueRevocation | undefined> {
    const { rows } = await sql<{ revocation_id: string; tenant_id: string }>`
      update revocation_work set due_at = now() + ${`${leaseMs} milliseconds`}::interval
      where revocation_id = (
        select revocation_id from revocation_work
        where stage = 'revoke' and due_at <= now()
        order by due_at
        limit 1
        for update skip locked)
      returning revocation_id, tenant_id`.execute(this.db);
    const work = rows[0];
    if (work === undefined) return undefined;
    const row = await withTenant(this.db, work.tenant_id, (trx) =>
      trx
        .selectFrom('revocations')
        .select('connection_id')
        .where('id', '=', work.revocation_id)
        .executeTakeFirst(),
    );
    return row === undefined
      ? undefined
      : {
          revocationId: work.revocation_id,
          tenantId: work.tenant_id,
          connectionId: row.connection_id,
        };
  }

  /**
   * Claims a due, unfinished revocation for one attempt (counted) and `leaseMs`; undefined when
   * it finished or is not due (another replica got to it first).
   */
  async claim(due: DueRevocation, leaseMs: number): Promise<ClaimedRevocation | undefined> {
    const lease = sql<Date>`now() + ${`${leaseMs} milliseconds`}::interval`;
    return withTenant(this.db, due.tenantId, async (trx) => {
      const row = await trx
        .updateTable('revocations')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          next_attempt_at: lease,
          claim: randomUUID(),
        }))
        .where('id', '=', due.revocationId)
        .where('completed_at', 'is', null)
        .where('next_attempt_at', '<=', sql<Date>`now()`)
        .returning(COLUMNS)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      await trx
        .updateTable('revocation_work')
        .set({ due_at: lease })
        .where('revocation_id', '=', row.id)
        .where('stage', '=', 'revoke')
        .execute();
      return { ...row, claim: row.claim! };
    });
  }

  /** The provider did not confirm: try again after `delayMs`, saying why (if still claimed). */
  async retryLater(revocation: ClaimedRevocation, delayMs: number, error: string): Promise<void> {
    const due = sql<Date>`now() + ${`${Math.round(delayMs)} milliseconds`}::interval`;
    await withTenant(this.db, revocation.tenant_id, async (trx) => {
      const retried = await trx
        .updateTable('revocations')
        .set({ next_attempt_at: due, last_error: error.slice(0, 300), claim: null })
        .where('id', '=', revocation.id)
        .where('claim', '=', revocation.claim)
        .where('completed_at', 'is', null)
        .executeTakeFirst();
      if (retried.numUpdatedRows === 0n) return;
      await trx
        .updateTable('revocation_work')
        .set({ due_at: due })
        .where('revocation_id', '=', revocation.id)
        .where('stage', '=', 'revoke')
        .execute();
    });
  }

  /**
   * The provider confirmed (or had nothing to revoke), and this attempt still holds the claim:
   * the receipt is written and waits to be reported, and the connection — while it still holds
   * the revoked grant — is `revoked`, or deleted when its person or tenant is erased, in one
   * transaction. Undefined, and nothing written, when the claim was lost or it completed already.
   */
  async complete(
    revocation: ClaimedRevocation,
    result: RevocationResult,
  ): Promise<Revocation | undefined> {
    return withTenant(this.db, revocation.tenant_id, async (trx) => {
      const row = await trx
        .updateTable('revocations')
        .set({
          completed_at: new Date(),
          provider_status: result.providerStatus,
          provider_answer: result.providerAnswer,
          last_error: null,
          claim: null,
        })
        .where('id', '=', revocation.id)
        .where('claim', '=', revocation.claim)
        .where('completed_at', 'is', null)
        .returning(COLUMNS)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      await trx
        .updateTable('revocation_work')
        .set({ stage: 'report', due_at: new Date() })
        .where('revocation_id', '=', revocation.id)
        .execute();
      // Only while the connection still holds the revoked grant, revocation pending.
      if (row.reason === 'disconnect') {
        await trx
          .updateTable('connections')
          .set({ status: 'revoked', revoked_at: new Date(), updated_at: new Date() })
          .where('tenant_id', '=', revocation.tenant_id)
          .where('id', '=', revocation.connection_id)
          .where('status', '=', 'revoking')
          .where('secret_id', '=', revocation.secret_id)
          .execute();
      } else {
        await trx
          .deleteFrom('connections')
          .where('tenant_id', '=', revocation.tenant_id)
          .where('id', '=', revocation.connection_id)
          .where('status', '=', 'revoking')
          .where('secret_id', '=', revocation.secret_id)
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
