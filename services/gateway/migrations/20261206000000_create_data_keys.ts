import { sql, type Kysely } from '@heroagent/db';

/**
 * The data keys that encrypt personal data: one per tenant (`scope` tenant, `owner_id` the
 * tenant) and one per person within a tenant (`scope` user, `owner_id` the person), each stored
 * only wrapped by its owner's key-encryption key in vault-proxy (Vault Transit or the embedded
 * store). The gateway unwraps one through vault-proxy when it needs it; once vault-proxy has
 * erased the owner's key-encryption key, the wrapped key opens nowhere, and every value it
 * encrypted is unreadable (crypto-shredding). An erased key's row stays as a tombstone (no wrapped
 * key, `erased_at` set), so a key made later for the same owner (a person invited back) takes the
 * next version and never passes for the erased one. The tenant's rows only, under row-level
 * security; a closed tenant's go with it.
 *
 * Frozen: policies are written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const tenant = `nullif(current_setting('app.tenant_id', true), '')::uuid`;
  await sql`
    create table data_keys (
      tenant_id uuid not null references tenants (id) on delete cascade,
      scope text not null check (scope in ('tenant', 'user')),
      owner_id uuid not null,
      version integer not null check (version > 0),
      wrapped text check (length(wrapped) between 1 and 4096),
      created_at timestamptz not null default now(),
      erased_at timestamptz,
      check ((wrapped is null) = (erased_at is not null)),
      primary key (tenant_id, scope, owner_id, version)
    )`.execute(db);
  await sql.raw(`alter table data_keys enable row level security`).execute(db);
  await sql.raw(`alter table data_keys force row level security`).execute(db);
  await sql
    .raw(
      `create policy data_keys_tenant_rows on data_keys for all using (tenant_id = ${tenant}) with check (tenant_id = ${tenant})`,
    )
    .execute(db);
}
