import { sql, type Kysely } from 'kysely';
import { quoteIdentifier } from './errors.js';
import { TENANT_SETTING } from './tenant.js';

/**
 * Puts a table under tenant isolation, version 1: row-level security enabled and forced (so it
 * applies to the table owner too) and one policy letting a transaction see and write only rows
 * whose `tenant_id` equals `app.tenant_id`. Without a tenant set, no row is visible or writable.
 *
 * Migrations call this, so its SQL is frozen: a different policy is a new function (v2), never an
 * edit of this one.
 */
export async function enableTenantIsolationV1(
  db: Kysely<unknown>,
  table: string,
  column = 'tenant_id',
): Promise<void> {
  const tableId = quoteIdentifier(table);
  const columnId = quoteIdentifier(column);
  const policy = quoteIdentifier(`${table}_tenant_isolation`);
  const current = `nullif(current_setting('${TENANT_SETTING}', true), '')::uuid`;
  await sql.raw(`alter table ${tableId} enable row level security`).execute(db);
  await sql.raw(`alter table ${tableId} force row level security`).execute(db);
  await sql
    .raw(
      `create policy ${policy} on ${tableId} using (${columnId} = ${current}) with check (${columnId} = ${current})`,
    )
    .execute(db);
}
