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
 * The queue of revocations, which is also the record of their receipts. A connection has at most
 * one revocation pending. The worker claims due rows with `for update skip locked` and a lease
 * (its next attempt moved past the lease), so replicas never try the same one at once and a
 * replica that dies mid-attempt leaves it to the others when the lease runs out.
 */
export class RevocationsRepository {
  constructor(private readonly db: Kysely<VaultProxyDatabase>) {}

  /**
   * Within the transaction that marks the connection `revoking`: queues its revocation, or
   * answers the one already pending (an erasure makes a pending disconnect an erasure).
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
    return revocationView(row);
  }

  /** The latest revocation of each of these connections. */
  async latest(
    tenantId: string,
    connectionIds: readonly string[],
  ): Promise<Map<string, Revocation>> {
    if (connectionIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('revocations')
      .select(COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('connection_id', 'in', connectionIds)
      .orderBy('requested_at')
      .execute();
    return new Map(rows.map((row) => [row.connection_id, revocationView(row)]));
  }

  /** Claims up to `limit` due revocations for `leaseMs`, each counted as one more attempt. */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedRevocation[]> {
    const { rows } = await sql<Row>`
      update revocations set attempts = attempts + 1,
        next_attempt_at = now() + ${`${leaseMs} milliseconds`}::interval
      where id in (
        select id from revocations
        where completed_at is null and next_attempt_at <= now()
        order by next_attempt_at
        limit ${limit}
        for update skip locked)
      returning ${sql.join(COLUMNS.map((column) => sql.ref(column)))}`.execute(this.db);
    return rows;
  }

  /** The provider did not confirm: try again after `delayMs`, saying why. */
  async retryLater(id: string, delayMs: number, error: string): Promise<void> {
    await sql`
      update revocations set next_attempt_at = now() + ${`${Math.round(delayMs)} milliseconds`}::interval,
        last_error = ${error.slice(0, 300)}
      where id = ${id} and completed_at is null`.execute(this.db);
  }

  /**
   * The provider confirmed (or had nothing to revoke): the receipt is written and the connection
   * is `revoked`, or deleted when its person or tenant is erased, in one transaction.
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

  /** Whether a tenant still has revocations pending (its last erasure step waits for none). */
  async pendingIn(tenantId: string): Promise<number> {
    const row = await this.db
      .selectFrom('revocations')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('tenant_id', '=', tenantId)
      .where('completed_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Completed revocations not yet recorded as audit events, oldest first. */
  async unreported(limit: number): Promise<Revocation[]> {
    const rows = await this.db
      .selectFrom('revocations')
      .select(COLUMNS)
      .where('completed_at', 'is not', null)
      .where('reported_at', 'is', null)
      .orderBy('completed_at')
      .limit(limit)
      .execute();
    return rows.map(revocationView);
  }

  async acknowledge(ids: readonly string[]): Promise<number> {
    const result = await this.db
      .updateTable('revocations')
      .set({ reported_at: new Date() })
      .where('id', 'in', ids)
      .where('completed_at', 'is not', null)
      .where('reported_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
