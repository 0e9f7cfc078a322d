import { sql, type Kysely } from '@heroagent/db';

/**
 * The activity log's filters and free-text search, usable at a million events per tenant.
 *
 * - Indexes for the name and outcome filters, in the order the query pages (newest first), and
 *   the time index rebuilt to carry seq.
 * - `event_search`: each event's searchable text (name, action type, rationale, policy reason)
 *   and its person,
 *   written by a trigger as events are stored, with a trigram index when pg_trgm is installed or
 *   this role may install it (a trusted extension: it needs CREATE on the database, so a deploy
 *   step may run `create extension pg_trgm` as a superuser first). Without it the search scans
 *   this narrow table instead, bounded by the repository's statement timeout.
 *
 * Why a table of its own, read through a view: under row-level security Postgres never lets a
 * predicate that is not LEAKPROOF (ILIKE is not, and only a superuser can declare one) drive an
 * index ahead of the policy, so on `events` a trigram index would never be used. `event_search`
 * has the same tenant policy, enabled but not forced, and the runtime role may only insert into
 * it (through the trigger); it reads it only through `tenant_event_search`, a view owned by the
 * table's owner, to whom the policy does not apply, and which keeps exactly the rows of the
 * transaction's tenant (`app.tenant_id`), as the policy would. Only roles with USAGE on this
 * schema (the service's own) can reach it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index events_by_name on events (tenant_id, name, seq desc)`.execute(db);
  await sql`create index events_by_outcome on events (tenant_id, outcome, seq desc)`.execute(db);
  // A time range is read from the time index, sorted by seq: its entries carry seq, so only the
  // page's own rows are fetched from the table.
  await sql`drop index events_by_time`.execute(db);
  await sql`create index events_by_time on events (tenant_id, occurred_at) include (seq)`.execute(
    db,
  );

  // plpgsql so the envelope is parsed once per event.
  await sql`
    create function audit_search_text(envelope text, name text, action text) returns text
    language plpgsql immutable parallel safe as $$
    declare
      event jsonb := envelope::jsonb -> 'event';
    begin
      return name || ' ' || coalesce(action, '') || ' '
        || coalesce(event ->> 'rationale', '') || ' '
        || coalesce(event #>> '{policy,reason}', '');
    end
    $$`.execute(db);

  await sql`
    create table event_search (
      tenant_id uuid not null,
      seq bigint not null,
      user_id uuid,
      search_text text not null,
      primary key (tenant_id, seq)
    )`.execute(db);
  // A member searches their own events: their rows, newest first, without the others'.
  await sql`create index event_search_by_user on event_search (tenant_id, user_id, seq desc)`.execute(
    db,
  );
  const tenant = sql.raw(`nullif(current_setting('app.tenant_id', true), '')::uuid`);
  await sql`alter table event_search enable row level security`.execute(db);
  await sql`create policy event_search_tenant_isolation on event_search
    using (tenant_id = ${tenant}) with check (tenant_id = ${tenant})`.execute(db);
  await sql`create trigger event_search_append_only before update or delete on event_search
    for each row execute function audit_append_only()`.execute(db);
  await sql`create trigger event_search_no_truncate before truncate on event_search
    for each statement execute function audit_append_only()`.execute(db);
  // Not a security barrier: the search's ILIKE must reach the trigram index.
  await sql`create view tenant_event_search as
    select tenant_id, seq, user_id, search_text from event_search where tenant_id = ${tenant}`.execute(
    db,
  );

  await sql`
    do $$
    declare
      grantee_name text;
      trgm_schema name;
    begin
      -- The runtime role writes event_search only through the trigger, and reads it only
      -- through tenant_event_search.
      for grantee_name in
        select distinct grantee from information_schema.role_table_grants
        where table_schema = current_schema()
          and table_name in ('event_search', 'tenant_event_search') and grantee <> current_user
      loop
        execute format('revoke select, update, delete, truncate on event_search from %I', grantee_name);
        execute format('revoke insert, update, delete, truncate on tenant_event_search from %I',
          grantee_name);
      end loop;

      execute format($f$
        create function audit_index_search() returns trigger language plpgsql
        set search_path = %1$I, pg_temp as $body$
        begin
          insert into event_search (tenant_id, seq, user_id, search_text)
          select tenant_id, seq, user_id, audit_search_text(envelope, name, action) from stored;
          return null;
        end
        $body$ $f$, current_schema());
      create trigger events_searchable after insert on events
        referencing new table as stored for each statement execute function audit_index_search();

      if not exists (select from pg_extension where extname = 'pg_trgm') then
        begin
          create extension pg_trgm;
        exception when others then
          raise notice 'pg_trgm cannot be installed here (%): activity search will scan', sqlerrm;
        end;
      end if;
      select n.nspname into trgm_schema
        from pg_extension e join pg_namespace n on n.oid = e.extnamespace
        where e.extname = 'pg_trgm';
      if trgm_schema is not null then
        execute format(
          'create index event_search_trigrams on event_search using gin (search_text %I.gin_trgm_ops)',
          trgm_schema);
      end if;
    end
    $$`.execute(db);

  // Events stored before this migration, tenant by tenant (events is under forced row-level
  // security, for its owner too; tenant_activity lists every tenant with events).
  await sql`
    do $$
    declare
      tenant uuid;
    begin
      for tenant in select tenant_id from tenant_activity loop
        perform set_config('app.tenant_id', tenant::text, true);
        insert into event_search (tenant_id, seq, user_id, search_text)
        select tenant_id, seq, user_id, audit_search_text(envelope, name, action) from events
        where tenant_id = tenant;
      end loop;
      perform set_config('app.tenant_id', '', true);
    end
    $$`.execute(db);
}
