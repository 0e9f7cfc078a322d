import { sql, type Kysely } from '@heroagent/db';

/**
 * How long each tenant keeps its task history: finished tasks older than `task_history_days`
 * are deleted with their timelines, actions and approvals (by cascade); null keeps them until
 * the tenant is deleted. The retention sweep runs across tenants: it may read every tenant's
 * setting, and see and delete only tasks that are not running.
 *
 * Frozen: policies are written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const tenant = `nullif(current_setting('app.tenant_id', true), '')::uuid`;
  const sweep = `current_setting('app.retention_sweep', true) = 'on'`;

  await sql`
    create table tenant_retention (
      tenant_id uuid primary key references tenants (id) on delete cascade,
      task_history_days integer check (task_history_days between 7 and 3650),
      updated_at timestamptz not null,
      updated_by uuid not null
    )`.execute(db);

  await sql.raw(`alter table tenant_retention enable row level security`).execute(db);
  await sql.raw(`alter table tenant_retention force row level security`).execute(db);
  await sql
    .raw(
      `create policy tenant_retention_tenant_rows on tenant_retention for all using (tenant_id = ${tenant}) with check (tenant_id = ${tenant})`,
    )
    .execute(db);
  // The sweep reads every tenant's setting, and changes none.
  await sql
    .raw(
      `create policy tenant_retention_sweep on tenant_retention for select using (${sweep} and task_history_days is not null)`,
    )
    .execute(db);
  // It sees and deletes finished tasks across tenants (stopped, or past their expiry): never a
  // running one, whatever its query says. Deleting needs the rows visible, hence both.
  const finished = `(status <> 'running' or expires_at <= now())`;
  await sql
    .raw(`create policy tasks_retention_sweep on tasks for select using (${sweep} and ${finished})`)
    .execute(db);
  await sql
    .raw(
      `create policy tasks_retention_deletes on tasks for delete using (${sweep} and ${finished})`,
    )
    .execute(db);
}
