import { enableTenantIsolationV1, sql, type Kysely } from '@heroagent/db';

/**
 * vault-proxy's tables: the connections registry (who connected which account with which scopes;
 * never a token), the embedded secrets store (used only when Vault is not configured), and the
 * request ids already answered (replay protection).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table tenants (
      tenant_id uuid primary key,
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table connections (
      id uuid primary key,
      tenant_id uuid not null,
      user_id uuid not null,
      provider text not null,
      account text not null,
      scopes text[] not null,
      status text not null check (status in ('active', 'needs_consent', 'revoked')),
      secret_version integer not null default 0,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);
  await sql`create index connections_by_user on connections (tenant_id, user_id)`.execute(db);

  await sql`
    create table embedded_secrets (
      tenant_id uuid not null,
      connection_id uuid not null,
      version integer not null check (version > 0),
      ciphertext text not null,
      created_at timestamptz not null default now(),
      primary key (tenant_id, connection_id, version)
    )`.execute(db);

  await sql`
    create table embedded_keys (
      tenant_id uuid not null,
      owner_scope text not null check (owner_scope in ('tenant', 'user')),
      owner_id uuid not null,
      version integer not null check (version > 0),
      key_ciphertext text not null,
      created_at timestamptz not null default now(),
      primary key (tenant_id, owner_scope, owner_id, version)
    )`.execute(db);

  // Unlogged: recording a request id costs no WAL flush. After a crash the table is empty, which
  // reopens the replay window for requests issued in the seconds before it; a replayed grant
  // still only yields a value sealed to the gateway.
  await sql`
    create unlogged table seen_requests (
      request_id uuid primary key,
      seen_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index seen_requests_by_time on seen_requests (seen_at)`.execute(db);

  for (const table of ['connections', 'embedded_secrets', 'embedded_keys']) {
    await enableTenantIsolationV1(db, table);
  }

  // The hot path of a token request reads one connection: one round trip instead of a
  // transaction of four. The function runs as its caller, so row-level security still applies,
  // with the tenant set first, in order.
  await sql`
    create function connection_of(tenant uuid, connection uuid) returns setof connections
    language plpgsql as $$
    begin
      perform set_config('app.tenant_id', tenant::text, true);
      return query select * from connections c where c.tenant_id = tenant and c.id = connection;
    end
    $$`.execute(db);
}
