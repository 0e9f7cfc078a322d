import { sql, type Kysely } from '@heroagent/db';

/**
 * Each tenant's policy, in Cedar: the current text and its version (an edit names the version it
 * replaces, so two admins cannot overwrite each other unknowingly). Every version is kept, so an
 * audit event's policy id can be read against the text that decided it.
 *
 * Frozen: policies are written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const tenant = `nullif(current_setting('app.tenant_id', true), '')::uuid`;
  await sql`
    create table tenant_policies (
      tenant_id uuid not null references tenants (id) on delete cascade,
      version integer not null check (version >= 1),
      text text not null check (length(text) <= 200000),
      created_at timestamptz not null default now(),
      created_by uuid,
      primary key (tenant_id, version)
    )`.execute(db);
  await sql.raw(`alter table tenant_policies enable row level security`).execute(db);
  await sql.raw(`alter table tenant_policies force row level security`).execute(db);
  await sql
    .raw(
      `create policy tenant_policies_tenant_rows on tenant_policies for all using (tenant_id = ${tenant}) with check (tenant_id = ${tenant})`,
    )
    .execute(db);
}
