import { sql, type Kysely, type Transaction } from 'kysely';
import { DatabaseError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The session setting that row-level security policies read. */
export const TENANT_SETTING = 'app.tenant_id';

/**
 * Runs `fn` in a transaction whose `app.tenant_id` is `tenantId`, so every row-level-security
 * policy limits it to that tenant's rows. The setting is transaction-local: it cannot leak to the
 * next user of the pooled connection.
 */
export async function withTenant<DB, T>(
  db: Kysely<DB>,
  tenantId: string,
  fn: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  if (!UUID.test(tenantId)) {
    throw new DatabaseError('INVALID_TENANT_ID', 'a tenant id is a UUID');
  }
  return db.transaction().execute(async (trx) => {
    await useTenant(trx, tenantId);
    return fn(trx);
  });
}

/**
 * Switches an open transaction to another tenant (until it ends or switches again): for work that
 * spans tenants in one commit, such as the audit ingest writing a batch.
 */
export async function useTenant<DB>(trx: Transaction<DB>, tenantId: string): Promise<void> {
  if (!UUID.test(tenantId)) {
    throw new DatabaseError('INVALID_TENANT_ID', 'a tenant id is a UUID');
  }
  await sql`select set_config(${TENANT_SETTING}, ${tenantId.toLowerCase()}, true)`.execute(trx);
}
