import { sql, type Kysely } from '@heroagent/db';

/**
 * Tasks and the tenant-wide agent switch. A task is what a person asked the agent to do; its
 * capability (held by the agent) names it, and stopping the task revokes every capability it
 * has. Pausing a tenant's agents refuses every capability of the tenant until resumed.
 *
 * Frozen: policies are written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const tenant = `nullif(current_setting('app.tenant_id', true), '')::uuid`;

  await sql`
    create table tasks (
      id uuid primary key,
      tenant_id uuid not null references tenants (id) on delete cascade,
      user_id uuid not null references users (id) on delete cascade,
      title text not null check (length(title) between 1 and 500),
      actions text[] not null,
      connection_id uuid,
      limits jsonb not null,
      capability_id uuid not null unique,
      status text not null check (status in ('running', 'stopped')) default 'running',
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      stopped_at timestamptz,
      stopped_by uuid,
      stop_reason text check (length(stop_reason) <= 500)
    )`.execute(db);
  await sql`create index tasks_by_tenant on tasks (tenant_id, created_at desc)`.execute(db);

  await sql`
    create table tenant_controls (
      tenant_id uuid primary key references tenants (id) on delete cascade,
      agents_paused boolean not null default false,
      changed_at timestamptz not null default now(),
      changed_by uuid
    )`.execute(db);

  for (const table of ['tasks', 'tenant_controls']) {
    await sql.raw(`alter table ${table} enable row level security`).execute(db);
    await sql.raw(`alter table ${table} force row level security`).execute(db);
    await sql
      .raw(
        `create policy ${table}_tenant_rows on ${table} for all using (tenant_id = ${tenant}) with check (tenant_id = ${tenant})`,
      )
      .execute(db);
  }
}
