import { sql, type Kysely } from '@heroagent/db';

/**
 * The agent's side of a task: what the person asked it (and in which time zone), how its work
 * stands and its closing summary; the task's timeline as the agent reported it, one row per
 * step, numbered by the agent so a report sent twice is stored once; and each tenant's model
 * settings (whether a cloud model may be used, which provider, whether it may read bodies).
 *
 * Frozen: policies are written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const tenant = `nullif(current_setting('app.tenant_id', true), '')::uuid`;

  await sql`
    alter table tasks
      add column request text check (length(request) between 1 and 4000),
      add column time_zone text check (length(time_zone) <= 64),
      add column agent_status text check (agent_status in ('running', 'completed', 'failed', 'stopped')),
      add column summary text check (length(summary) <= 8000)
  `.execute(db);

  await sql`
    create table task_events (
      tenant_id uuid not null references tenants (id) on delete cascade,
      task_id uuid not null references tasks (id) on delete cascade,
      seq integer not null check (seq >= 1),
      kind text not null check (length(kind) between 1 and 64),
      at timestamptz not null,
      body jsonb not null,
      received_at timestamptz not null default now(),
      primary key (task_id, seq)
    )`.execute(db);

  await sql`
    create table tenant_agent_settings (
      tenant_id uuid primary key references tenants (id) on delete cascade,
      allow_cloud boolean not null default false,
      provider_id text check (length(provider_id) between 1 and 63),
      cloud_may_read_bodies boolean not null default false,
      updated_at timestamptz not null default now(),
      updated_by uuid
    )`.execute(db);

  for (const table of ['task_events', 'tenant_agent_settings']) {
    await sql.raw(`alter table ${table} enable row level security`).execute(db);
    await sql.raw(`alter table ${table} force row level security`).execute(db);
    await sql
      .raw(
        `create policy ${table}_tenant_rows on ${table} for all using (tenant_id = ${tenant}) with check (tenant_id = ${tenant})`,
      )
      .execute(db);
  }
}
