import { randomUUID } from 'node:crypto';
import type { Connection, Revocation } from '@heroagent/contracts';
import { sql, withTenant, type Kysely } from '@heroagent/db';
import type { RevocationsRepository } from '../revocations/revocations.repository.js';
import type { SecretRef } from '../secrets/secrets-backend.js';
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
  | 'secret_id'
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
  'secret_id',
  'created_at',
  'last_used_at',
  'revoked_at',
] as const;

/** What an erased person's connection shows as its account while its revocation is pending. */
export const ERASED_ACCOUNT = '[erased]';

/** Where a connection's current grant keeps its refresh token. */
export function grantSecret(row: Pick<Row, 'tenant_id' | 'secret_id'>): SecretRef {
  return { tenantId: row.tenant_id, connectionId: row.secret_id };
}

/** What storing a new grant did: stored it, or refused it while the account is being revoked. */
export type StoredGrant =
  | { readonly outcome: 'stored'; readonly connection: StoredConnection; readonly created: boolean }
  | { readonly outcome: 'revoking' };

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
      select id, tenant_id, user_id, provider, account, scopes, status, secret_version, secret_id, created_at, last_used_at, revoked_at
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

  /**
   * Stores a grant of an account: a new connection, or the account's connection with its new
   * scopes after re-consent (reactivated), `store` writing the refresh token meanwhile. The row is
   * locked throughout, so a revocation asked meanwhile waits and then revokes this grant; one
   * already pending refuses it (revoking the old token at Google would end the new grant too).
   * A grant after a finished revocation is kept under a new secret id: the old revocation's work
   * can reach only the old grant's.
   */
  async storeGrant(
    grant: {
      tenantId: string;
      userId: string;
      provider: string;
      account: string;
      scopes: string[];
    },
    store: (secret: SecretRef) => Promise<number>,
  ): Promise<StoredGrant> {
    const { tenantId } = grant;
    await this.db
      .insertInto('tenants')
      .values({ tenant_id: tenantId })
      .onConflict((conflict) => conflict.column('tenant_id').doNothing())
      .execute();
    return withTenant(this.db, tenantId, async (trx) => {
      const existing = await trx
        .selectFrom('connections')
        .select(COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', grant.userId)
        .where('provider', '=', grant.provider)
        .where('account', '=', grant.account)
        .orderBy('created_at')
        .forUpdate()
        .executeTakeFirst();
      if (existing?.status === 'revoking') return { outcome: 'revoking' };
      const id = existing?.id ?? randomUUID();
      const secretId =
        existing === undefined
          ? id
          : existing.status === 'revoked'
            ? randomUUID()
            : existing.secret_id;
      const secretVersion = await store({ tenantId, connectionId: secretId });
      const granted = {
        account: grant.account,
        scopes: grant.scopes,
        status: 'active' as const,
        secret_id: secretId,
        secret_version: secretVersion,
        revoked_at: null,
      };
      const row =
        existing === undefined
          ? await trx
              .insertInto('connections')
              .values({
                id,
                tenant_id: tenantId,
                user_id: grant.userId,
                provider: grant.provider,
                last_used_at: null,
                ...granted,
              })
              .returning(COLUMNS)
              .executeTakeFirstOrThrow()
          : await trx
              .updateTable('connections')
              .set({ ...granted, updated_at: new Date() })
              .where('tenant_id', '=', tenantId)
              .where('id', '=', id)
              .returning(COLUMNS)
              .executeTakeFirstOrThrow();
      return { outcome: 'stored', connection: toStored(row), created: existing === undefined };
    });
  }

  /**
   * The provider refused the grant this row was read with: `needs_consent`, unless the connection
   * is being revoked or was re-consented meanwhile (a refresh's outcome never overrides those).
   */
  async markNeedsConsent(row: Row): Promise<void> {
    await withTenant(this.db, row.tenant_id, (trx) =>
      trx
        .updateTable('connections')
        .set({ status: 'needs_consent', updated_at: new Date() })
        .where('tenant_id', '=', row.tenant_id)
        .where('id', '=', row.id)
        .where('status', 'in', ['active', 'needs_consent'])
        .where('secret_id', '=', row.secret_id)
        .where('secret_version', '=', row.secret_version)
        .execute(),
    );
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
        secret_id: updated.secret_id,
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
