import type { Connection, Revocation } from '@heroagent/contracts';
import { sql, withTenant, type Kysely } from '@heroagent/db';
import type { RevocationsRepository } from '../revocations/revocations.repository.js';
import type { VaultProxyDatabase } from '../store-tables.js';

type Row = Pick<
  VaultProxyDatabase['connections'],
  | 'id'
  | 'tenant_id'
  | 'user_id'
  | 'provider'
  | 'account'
  | 'scopes'
  | 'status'
  | 'last_used_at'
  | 'revoked_at'
> & {
  created_at: Date;
  /** The stored refresh token's version when the grant was last stored (re-consent raises it). */
  secret_version: number;
};

const COLUMNS = [
  'id',
  'tenant_id',
  'user_id',
  'provider',
  'account',
  'scopes',
  'status',
  'secret_version',
  'created_at',
  'last_used_at',
  'revoked_at',
] as const;

/** What an erased person's connection shows as its account while its revocation is pending. */
export const ERASED_ACCOUNT = '[erased]';

/** A connection as stored, with its view for callers. */
export interface StoredConnection {
  readonly row: Row;
  readonly view: Connection;
}

function toStored(row: Row): StoredConnection {
  return {
    row,
    view: {
      id: row.id,
      tenantId: row.tenant_id,
      userId: row.user_id,
      provider: row.provider as Connection['provider'],
      account: row.account,
      scopes: row.scopes,
      status: row.status,
      createdAt: row.created_at.toISOString(),
      ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at.toISOString() }),
      ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at.toISOString() }),
    },
  };
}

/** The connections registry: who connected which account, with which scopes. Never a token. */
export class ConnectionsRepository {
  constructor(private readonly db: Kysely<VaultProxyDatabase>) {}

  /** One connection, in one round trip (see the connection_of function), under RLS. */
  async get(tenantId: string, id: string): Promise<StoredConnection | undefined> {
    const { rows } = await sql<Row>`
      select id, tenant_id, user_id, provider, account, scopes, status, secret_version, created_at, last_used_at, revoked_at
      from connection_of(${tenantId}, ${id})`.execute(this.db);
    return rows[0] === undefined ? undefined : toStored(rows[0]);
  }

  async list(tenantId: string, userId?: string): Promise<StoredConnection[]> {
    const rows = await withTenant(this.db, tenantId, (trx) => {
      let query = trx.selectFrom('connections').select(COLUMNS).where('tenant_id', '=', tenantId);
      if (userId !== undefined) query = query.where('user_id', '=', userId);
      return query.orderBy('created_at').execute();
    });
    return rows.map(toStored);
  }

  /** Creates the connection, or updates it with new scopes after re-consent (reactivating it). */
  async upsert(connection: {
    id: string;
    tenantId: string;
    userId: string;
    provider: string;
    account: string;
    scopes: string[];
    secretVersion: number;
  }): Promise<StoredConnection | undefined> {
    await this.db
      .insertInto('tenants')
      .values({ tenant_id: connection.tenantId })
      .onConflict((conflict) => conflict.column('tenant_id').doNothing())
      .execute();
    const row = await withTenant(this.db, connection.tenantId, (trx) =>
      trx
        .insertInto('connections')
        .values({
          id: connection.id,
          tenant_id: connection.tenantId,
          user_id: connection.userId,
          provider: connection.provider,
          account: connection.account,
          scopes: connection.scopes,
          status: 'active',
          secret_version: connection.secretVersion,
          last_used_at: null,
          revoked_at: null,
        })
        .onConflict((conflict) =>
          conflict
            .column('id')
            .doUpdateSet({
              scopes: connection.scopes,
              account: connection.account,
              status: 'active',
              secret_version: connection.secretVersion,
              revoked_at: null,
              updated_at: new Date(),
            })
            // A connection is never moved to another person or provider.
            .where('connections.user_id', '=', connection.userId)
            .where('connections.provider', '=', connection.provider),
        )
        .returning(COLUMNS)
        .executeTakeFirst(),
    );
    return row === undefined ? undefined : toStored(row);
  }

  async setStatus(
    tenantId: string,
    id: string,
    status: Row['status'],
  ): Promise<StoredConnection | undefined> {
    const row = await withTenant(this.db, tenantId, (trx) =>
      trx
        .updateTable('connections')
        .set({
          status,
          updated_at: new Date(),
          ...(status === 'revoked' ? { revoked_at: new Date() } : {}),
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .returning(COLUMNS)
        .executeTakeFirst(),
    );
    return row === undefined ? undefined : toStored(row);
  }

  /**
   * In one transaction: the connection becomes `revoking` (no token is issued for it any more, on
   * any replica: every issue reads its row) and its revocation is queued. For an erasure, the
   * account's address goes at once too: only the sealed token waits for the provider.
   */
  async beginRevocation(
    connection: StoredConnection,
    reason: Revocation['reason'],
    revocations: RevocationsRepository,
  ): Promise<{ connection: StoredConnection; revocation: Revocation }> {
    const { row } = connection;
    return withTenant(this.db, row.tenant_id, async (trx) => {
      const updated = await trx
        .updateTable('connections')
        .set({
          status: 'revoking',
          updated_at: new Date(),
          ...(reason === 'disconnect' ? {} : { account: ERASED_ACCOUNT }),
        })
        .where('tenant_id', '=', row.tenant_id)
        .where('id', '=', row.id)
        .returning(COLUMNS)
        .executeTakeFirstOrThrow();
      const revocation = await revocations.enqueue(trx, {
        tenant_id: row.tenant_id,
        user_id: row.user_id,
        connection_id: row.id,
        provider: row.provider,
        scopes: row.scopes,
        reason,
      });
      return { connection: toStored(updated), revocation };
    });
  }

  async touch(tenantId: string, id: string): Promise<void> {
    await withTenant(this.db, tenantId, (trx) =>
      trx
        .updateTable('connections')
        .set({ last_used_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute(),
    );
  }
}
