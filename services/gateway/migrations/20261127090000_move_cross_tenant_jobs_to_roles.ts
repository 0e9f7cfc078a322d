import { sql, type Kysely } from '@heroagent/db';

/**
 * The gateway's cross-tenant jobs get login roles of their own, and the runtime role (what every
 * request runs as) loses every way across tenants.
 *
 * Until now the outbox relay and the sweepers ran as the runtime role, opening policies with a
 * session setting (`app.outbox_relay`, `app.stale_sweep`, `app.send_release`,
 * `app.approval_sweep`, `app.retention_sweep` = 'on') that any session of that role could set:
 * one SQL injection or bug in a request path, and it read every tenant's outbox. Those policies
 * are dropped. In their place, policies `TO` a role, with no setting to switch:
 *
 * - relay (`heroagent.relay_role`): reads every tenant's outbox (ids and signed, encrypted
 *   envelopes), marks rows published or retried, deletes only rows already published. Nothing
 *   else: no task, action or person.
 * - sweeper (`heroagent.sweeper_role`): fails actions a crash left executing, lists due sends
 *   (SELECT only: each send is claimed in its tenant's transaction under the runtime role),
 *   expires approvals and their actions, reads which tenants limit their history and deletes their
 *   finished tasks — seeing of a task only its ids, status and times, never what a person wrote —
 *   and writes the audit event of each change (INSERT only: it never reads the outbox).
 *
 * Each job role gets column-level privileges for exactly what its statements touch. The runtime
 * role's tenant policies on the tables a job reaches are narrowed `TO` the runtime role, so that
 * a job role cannot borrow them by setting `app.tenant_id` (its reach is its own policies only).
 *
 * Role names differ per installation: the migration runner sets `heroagent.<purpose>_role` for
 * this transaction (libs/db `MigrationRoles`); a run without them fails on the missing setting.
 *
 * Frozen: policies are written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const tenant = sql.raw(`nullif(current_setting('app.tenant_id', true), '')::uuid`);
  const { rows } = await sql<{ runtime: string; relay: string; sweeper: string }>`
    select current_setting('heroagent.runtime_role') as runtime,
      current_setting('heroagent.relay_role') as relay,
      current_setting('heroagent.sweeper_role') as sweeper`.execute(db);
  const runtime = sql.id(rows[0]!.runtime);
  const relay = sql.id(rows[0]!.relay);
  const sweeper = sql.id(rows[0]!.sweeper);

  for (const [table, policy] of [
    ['audit_outbox', 'audit_outbox_tenant_or_relay'],
    ['actions', 'actions_stale_sweep'],
    ['actions', 'actions_send_release'],
    ['actions', 'actions_expiry_sweep'],
    ['approvals', 'approvals_expiry_sweep'],
    ['tenant_retention', 'tenant_retention_sweep'],
    ['tasks', 'tasks_retention_sweep'],
    ['tasks', 'tasks_retention_deletes'],
  ] as const) {
    await sql`drop policy ${sql.id(policy)} on ${sql.table(table)}`.execute(db);
  }

  // The runtime role: its tenant's rows, on the tables the jobs also reach.
  await sql`create policy audit_outbox_tenant_rows on audit_outbox for all to ${runtime}
    using (tenant_id = ${tenant}) with check (tenant_id = ${tenant})`.execute(db);
  for (const table of ['actions', 'approvals', 'tasks', 'tenant_retention']) {
    await sql`alter policy ${sql.id(`${table}_tenant_rows`)} on ${sql.table(table)}
      to ${runtime}`.execute(db);
  }

  // The outbox relay.
  await sql`grant select, delete on audit_outbox to ${relay}`.execute(db);
  await sql`grant update (published_at, attempts) on audit_outbox to ${relay}`.execute(db);
  await sql`create policy audit_outbox_relay_reads on audit_outbox for select to ${relay}
    using (true)`.execute(db);
  await sql`create policy audit_outbox_relay_marks on audit_outbox for update to ${relay}
    using (published_at is null) with check (true)`.execute(db);
  await sql`create policy audit_outbox_relay_deletes on audit_outbox for delete to ${relay}
    using (published_at is not null)`.execute(db);

  // The sweeper: stale actions and approval expiry, as the settings' policies allowed them.
  await sql`grant select on actions, approvals to ${sweeper}`.execute(db);
  await sql`grant update (status, error, updated_at, completed_at) on actions to ${sweeper}`.execute(
    db,
  );
  await sql`grant update (status, decided_at) on approvals to ${sweeper}`.execute(db);
  await sql`create policy actions_stale_sweep on actions for all to ${sweeper}
    using (status in ('executing', 'failed')) with check (status = 'failed')`.execute(db);
  await sql`create policy actions_expiry_sweep on actions for all to ${sweeper}
    using (status in ('pending_approval', 'expired')) with check (status = 'expired')`.execute(db);
  await sql`create policy approvals_expiry_sweep on approvals for all to ${sweeper}
    using (status in ('pending', 'expired')) with check (status = 'expired')`.execute(db);
  // Due sends: listed only.
  await sql`create policy actions_send_release on actions for select to ${sweeper}
    using (status = 'scheduled')`.execute(db);
  // Retention: every tenant's limit (never changed), finished tasks seen and deleted (their
  // timelines, actions and approvals go by cascade, which Postgres runs as the tables' owner).
  await sql`grant select (tenant_id, task_history_days) on tenant_retention to ${sweeper}`.execute(
    db,
  );
  await sql`grant select (id, tenant_id, status, created_at, expires_at) on tasks to ${sweeper}`.execute(
    db,
  );
  await sql`grant delete on tasks to ${sweeper}`.execute(db);
  await sql`create policy tenant_retention_sweep on tenant_retention for select to ${sweeper}
    using (task_history_days is not null)`.execute(db);
  const finished = sql.raw(`(status <> 'running' or expires_at <= now())`);
  await sql`create policy tasks_retention_sweep on tasks for select to ${sweeper}
    using (${finished})`.execute(db);
  await sql`create policy tasks_retention_deletes on tasks for delete to ${sweeper}
    using (${finished})`.execute(db);
  // Each sweep records what it changed, in the same transaction.
  await sql`grant insert (id, tenant_id, envelope) on audit_outbox to ${sweeper}`.execute(db);
  await sql`create policy audit_outbox_sweeper_writes on audit_outbox for insert to ${sweeper}
    with check (true)`.execute(db);
}
