import { enableTenantIsolationV1, sql, type Kysely } from '@heroagent/db';

/**
 * Revocation that finishes: a connection being revoked is `revoking` (its sealed refresh token
 * kept) until the provider confirms. `revocations` holds each one and, once finished, its
 * receipt (tenant data, under row-level security). `revocation_work` is what the workers and the
 * receipt reporting walk across tenants: which revocation, of which tenant, is due when, or
 * waits to be reported; no person, connection or answer, like `tenants`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table connections drop constraint connections_status_check`.execute(db);
  await sql`
    alter table connections add constraint connections_status_check
    check (status in ('active', 'needs_consent', 'revoking', 'revoked'))`.execute(db);

  await sql`
    create table revocations (
      id uuid primary key,
      tenant_id uuid not null,
      user_id uuid not null,
      connection_id uuid not null,
      provider text not null,
      scopes text[] not null,
      reason text not null check (reason in ('disconnect', 'erase_person', 'erase_tenant')),
      requested_at timestamptz not null default now(),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error text,
      completed_at timestamptz,
      provider_status integer,
      provider_answer text check (provider_answer in ('revoked', 'already_invalid', 'no_token_stored')),
      reported_at timestamptz,
      check ((completed_at is null) = (provider_answer is null))
    )`.execute(db);
  // One revocation under way per connection.
  await sql`
    create unique index revocations_pending_by_connection on revocations (connection_id)
    where completed_at is null`.execute(db);
  await sql`create index revocations_by_connection on revocations (tenant_id, connection_id)`.execute(
    db,
  );
  await enableTenantIsolationV1(db, 'revocations');

  await sql`
    create table revocation_work (
      revocation_id uuid primary key,
      tenant_id uuid not null,
      stage text not null check (stage in ('revoke', 'report')),
      due_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index revocation_work_due on revocation_work (stage, due_at)`.execute(db);
}
