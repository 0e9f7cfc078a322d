import { sql, type Kysely } from '@heroagent/db';

/**
 * Approvals: an action the policy wants a person to approve waits here until enough people
 * (one; two for purchases over the threshold) approve it, someone denies it, or it expires.
 * Who approved, when and why is kept; the action itself runs once, after the last approval.
 *
 * Frozen: policies are written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const tenant = `nullif(current_setting('app.tenant_id', true), '')::uuid`;
  await sql`
    create table approvals (
      id uuid primary key,
      tenant_id uuid not null references tenants (id) on delete cascade,
      action_id uuid not null unique references actions (id) on delete cascade,
      user_id uuid not null,
      status text not null check (status in ('pending', 'approved', 'denied', 'expired')),
      required integer not null check (required between 1 and 5),
      decisions jsonb not null default '[]',
      reason text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      decided_at timestamptz
    )`.execute(db);
  await sql`create index approvals_pending on approvals (tenant_id, expires_at) where status = 'pending'`.execute(
    db,
  );
  await sql.raw(`alter table approvals enable row level security`).execute(db);
  await sql.raw(`alter table approvals force row level security`).execute(db);
  await sql
    .raw(
      `create policy approvals_tenant_rows on approvals for all using (tenant_id = ${tenant}) with check (tenant_id = ${tenant})`,
    )
    .execute(db);
  // The expiry sweep runs across tenants, like the outbox relay.
  await sql
    .raw(
      `create policy approvals_expiry_sweep on approvals for all using (current_setting('app.approval_sweep', true) = 'on' and status in ('pending', 'expired')) with check (current_setting('app.approval_sweep', true) = 'on' and status = 'expired')`,
    )
    .execute(db);
  await sql
    .raw(
      `create policy actions_expiry_sweep on actions for all using (current_setting('app.approval_sweep', true) = 'on' and status in ('pending_approval', 'expired')) with check (current_setting('app.approval_sweep', true) = 'on' and status = 'expired')`,
    )
    .execute(db);
}
