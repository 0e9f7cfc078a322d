import { enableTenantIsolationV1, sql, type Kysely } from '@heroagent/db';

/**
 * The audit store: the key registry, each tenant's hash chain and Merkle head, signed
 * checkpoints, the quarantine, and SIEM destinations. Stored records can never be changed or
 * deleted: a trigger refuses it for every role, and the runtime role is not granted it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table signing_keys (
      kid text primary key,
      service text not null check (service in ('gateway', 'agent', 'vault-proxy', 'audit')),
      public_key bytea not null check (octet_length(public_key) = 32),
      not_before timestamptz not null,
      not_after timestamptz,
      registered_at timestamptz not null default now(),
      check (not_after is null or not_after > not_before)
    )`.execute(db);

  await sql`
    create table tenant_activity (
      tenant_id uuid primary key,
      seq bigint not null default 0,
      checkpointed_seq bigint not null default 0,
      updated_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table chain_heads (
      tenant_id uuid primary key,
      seq bigint not null check (seq >= 0),
      hash bytea not null check (octet_length(hash) = 32),
      frontier bytea not null,
      last_checkpoint_size bigint,
      last_checkpoint_root bytea,
      updated_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table events (
      tenant_id uuid not null,
      seq bigint not null check (seq > 0),
      event_id uuid not null,
      prev_hash bytea not null check (octet_length(prev_hash) = 32),
      hash bytea not null check (octet_length(hash) = 32),
      leaf_hash bytea not null check (octet_length(leaf_hash) = 32),
      envelope text not null,
      occurred_at timestamptz not null,
      received_at timestamptz not null,
      name text not null,
      source text not null,
      user_id uuid,
      task_id uuid,
      action text,
      outcome text not null,
      primary key (tenant_id, seq),
      unique (tenant_id, event_id)
    )`.execute(db);
  await sql`create index events_by_user on events (tenant_id, user_id, seq desc)`.execute(db);
  await sql`create index events_by_task on events (tenant_id, task_id, seq desc)`.execute(db);
  await sql`create index events_by_action on events (tenant_id, action, seq desc)`.execute(db);
  await sql`create index events_by_time on events (tenant_id, occurred_at desc)`.execute(db);

  await sql`
    create table checkpoints (
      tenant_id uuid not null,
      tree_size bigint not null check (tree_size > 0),
      root_hash bytea not null check (octet_length(root_hash) = 32),
      payload text not null,
      kid text not null,
      signature text not null,
      signed_at timestamptz not null,
      primary key (tenant_id, tree_size)
    )`.execute(db);

  await sql`
    create table quarantine (
      id bigint generated always as identity primary key,
      received_at timestamptz not null default now(),
      subject text not null,
      stream_seq bigint,
      tenant_id uuid,
      event_id uuid,
      reason text not null,
      detail text not null,
      payload bytea not null
    )`.execute(db);
  await sql`create index quarantine_by_tenant on quarantine (tenant_id, received_at desc)`.execute(
    db,
  );

  await sql`
    create table siem_destinations (
      id uuid primary key,
      tenant_id uuid not null,
      name text not null,
      endpoint text not null,
      encoding text not null check (encoding in ('json', 'protobuf')),
      headers_ciphertext text not null,
      header_names text[] not null,
      enabled boolean not null,
      exported_through_seq bigint not null default 0,
      failures integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_success_at timestamptz,
      last_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index siem_by_tenant on siem_destinations (tenant_id)`.execute(db);

  for (const table of ['chain_heads', 'events', 'checkpoints', 'siem_destinations']) {
    await enableTenantIsolationV1(db, table);
  }

  await sql`
    create function audit_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit records are append-only: % on % refused', tg_op, tg_table_name
        using errcode = 'insufficient_privilege';
    end
    $$`.execute(db);
  for (const table of ['events', 'checkpoints', 'quarantine', 'signing_keys']) {
    await sql
      .raw(
        `create trigger ${table}_append_only before update or delete on ${table}
      for each row execute function audit_append_only()`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger ${table}_no_truncate before truncate on ${table}
      for each statement execute function audit_append_only()`,
      )
      .execute(db);
  }
  // signing_keys may only have a key's end of validity set, once, to retire it.
  await sql`drop trigger signing_keys_append_only on signing_keys`.execute(db);
  await sql`
    create function audit_key_retire_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' or new.kid <> old.kid or new.service <> old.service
         or new.public_key <> old.public_key or new.not_before <> old.not_before
         or old.not_after is not null then
        raise exception 'a registered signing key can only be retired, once'
          using errcode = 'insufficient_privilege';
      end if;
      return new;
    end
    $$`.execute(db);
  await sql`create trigger signing_keys_retire_only before update or delete on signing_keys
    for each row execute function audit_key_retire_only()`.execute(db);

  // Whatever default privileges granted, the runtime role may not rewrite the record.
  await sql`
    do $$
    declare grantee_name text;
    begin
      for grantee_name in
        select distinct grantee from information_schema.role_table_grants
        where table_schema = current_schema() and table_name in ('events', 'checkpoints', 'quarantine')
          and privilege_type in ('UPDATE', 'DELETE', 'TRUNCATE') and grantee <> current_user
      loop
        execute format('revoke update, delete, truncate on events, checkpoints, quarantine from %I', grantee_name);
      end loop;
    end
    $$`.execute(db);
}
