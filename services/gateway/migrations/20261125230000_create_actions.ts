import { sql, type Kysely } from '@heroagent/db';

/**
 * The actions the agent asked for, one row each, from the request to its outcome: what was
 * asked (type, parameters, the agent's rationale), the policy decision, the approval it waits
 * for, the minimised result, and what undoing it needs. A task's idempotency key names one row,
 * so a retried request finds the first outcome instead of acting twice.
 *
 * Frozen: policies are written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const tenant = `nullif(current_setting('app.tenant_id', true), '')::uuid`;
  await sql`
    create table actions (
      id uuid primary key,
      tenant_id uuid not null references tenants (id) on delete cascade,
      task_id uuid not null references tasks (id) on delete cascade,
      user_id uuid not null,
      connection_id uuid,
      capability_id uuid not null,
      type text not null,
      class text not null check (class in ('read', 'reversible', 'irreversible')),
      idempotency_key text not null,
      request_hash bytea not null,
      params jsonb not null,
      rationale text not null,
      status text not null check (status in (
        'executing', 'completed', 'failed', 'denied', 'pending_approval', 'approved',
        'rejected', 'expired', 'undone', 'cancelled', 'scheduled'
      )),
      policy jsonb not null,
      amount_minor bigint,
      currency text,
      result jsonb,
      undo_state jsonb,
      error jsonb,
      audit_event_id uuid not null,
      -- A send held in the outbox leaves at this time unless it is cancelled first.
      release_at timestamptz,
      undoes uuid references actions (id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      completed_at timestamptz,
      unique (task_id, idempotency_key)
    )`.execute(db);
  await sql`create index actions_by_tenant_time on actions (tenant_id, created_at desc)`.execute(
    db,
  );
  await sql`create index actions_by_task on actions (task_id, created_at)`.execute(db);
  await sql`create index actions_due on actions (release_at) where status = 'scheduled'`.execute(
    db,
  );
  await sql.raw(`alter table actions enable row level security`).execute(db);
  await sql.raw(`alter table actions force row level security`).execute(db);
  await sql
    .raw(
      `create policy actions_tenant_rows on actions for all using (tenant_id = ${tenant}) with check (tenant_id = ${tenant})`,
    )
    .execute(db);
  // After a crash, actions left running are found across tenants and marked: outcome unknown.
  await sql
    .raw(
      `create policy actions_stale_sweep on actions for all using (current_setting('app.stale_sweep', true) = 'on' and status in ('executing', 'failed')) with check (current_setting('app.stale_sweep', true) = 'on' and status = 'failed')`,
    )
    .execute(db);
  // The sender releases due sends across tenants: it may see scheduled ones and claim them.
  await sql
    .raw(
      `create policy actions_send_release on actions for all using (current_setting('app.send_release', true) = 'on' and status in ('scheduled', 'executing')) with check (current_setting('app.send_release', true) = 'on' and status = 'executing')`,
    )
    .execute(db);
}
