import { sql, type Kysely } from '@heroagent/db';

/**
 * Row-level security forced on every table of the audit store that holds a tenant's data, and the
 * activity search read through a function instead of a plain view.
 *
 * `tenant_event_search` (migration 20261126021500) was a view without `security_barrier` over
 * `event_search`, whose policy was not forced: the view ran as the table's owner, whom the policy
 * did not bind, and the planner may evaluate a caller's WHERE clause before the view's own tenant
 * condition. A runtime role could therefore read other tenants' search text by filtering with a
 * function that leaks its argument (a temporary function raising a notice, or just a failing
 * cast whose error message quotes the value).
 *
 * Now:
 * - `event_search` has its policy forced; the runtime role still only inserts (through the
 *   trigger, under its tenant policy) and cannot read the table.
 * - `tenant_event_search(pattern, before_seq, by_user, max_rows)`: a SECURITY DEFINER function
 *   with a fixed search_path, returning the seqs of the current tenant's (`app.tenant_id`)
 *   matches, newest first. Its queries are its own: nothing the caller writes runs inside it,
 *   and what comes out is already one tenant's. It runs as the schema owner, whom one select-only
 *   policy lets read every row: with a tenant policy in the way, Postgres would never let the
 *   ILIKE (not leakproof) use the trigram index, which is why the table exists. The function
 *   itself keeps to the tenant. Only the runtime role may execute it.
 *   (A `security_barrier` view would keep tenants apart too, but for the same reason its search
 *   could never use the index: every search would scan the tenant's whole history.)
 * - Under forced row-level security Postgres also hides the column's statistics from the
 *   planner for a non-leakproof operator, even from the owner: it can no longer tell a common
 *   term (walk back from the newest events; a page fills in a few thousand rows) from a rare one
 *   (ask the trigram index). So the function decides itself: it reads the newest events a window
 *   at a time, sizing the next window by the matches seen so far, and turns to the index once
 *   those say the rest are more than 20,000 events back.
 * - `quarantine` (refused events, whole, tenant ids among them) is under forced row-level
 *   security: the runtime role may add to it and no longer read it; whoever investigates reads it
 *   as an administrator.
 *
 * Not under row-level security, and holding no tenant's content: `signing_keys` (the services'
 * public keys) and `tenant_activity` (which tenants have events, and how many: what the ingest,
 * the checkpointer and the SIEM export schedule their work across tenants by).
 *
 * The runtime role's name comes from the migration runner (`heroagent.runtime_role`).
 *
 * Frozen: written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ runtime: string; owner: string; schema: string }>`
    select current_setting('heroagent.runtime_role') as runtime, current_user as owner,
      current_schema() as schema`.execute(db);
  const runtime = sql.id(rows[0]!.runtime);
  const owner = sql.id(rows[0]!.owner);
  const schema = sql.id(rows[0]!.schema);

  await sql`drop view tenant_event_search`.execute(db);
  await sql`alter table event_search force row level security`.execute(db);
  await sql`create policy event_search_definer_reads on event_search for select to ${owner}
    using (true)`.execute(db);

  await sql`
    create function tenant_event_search(
      pattern text, before_seq bigint, by_user uuid, max_rows integer
    ) returns table (seq bigint)
    language plpgsql stable security definer
    set search_path = ${schema}, pg_temp
    as $$
    declare
      tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
      wanted integer := least(greatest(coalesce(max_rows, 0), 0), 20000);
      scope text := ' from event_search s where s.tenant_id = $1'
        || case when by_user is null then '' else ' and s.user_id = $4' end;
      boundary bigint := before_seq;
      window_rows integer := 1000;
      examined integer;
      oldest bigint;
      matched bigint[];
      found integer;
    begin
      if tenant is null or pattern is null or wanted = 0 then
        return;
      end if;
      -- Walk back from the newest events a window at a time while the matches seen so far say
      -- the rest are near; once they say the rest are far (a rare term), ask the trigram index.
      loop
        execute 'select count(*)::int, min(w.seq), array_agg(w.seq order by w.seq desc)'
          || ' filter (where w.search_text ilike $2) from (select s.seq, s.search_text' || scope
          || case when boundary is null then '' else ' and s.seq < $3' end
          || ' order by s.seq desc limit $5) w'
          into examined, oldest, matched using tenant, pattern, boundary, by_user, window_rows;
        found := coalesce(cardinality(matched), 0);
        return query select m.seq from unnest(matched[1:wanted]) as m(seq);
        wanted := wanted - least(found, wanted);
        if wanted = 0 or examined < window_rows then
          return;
        end if;
        boundary := oldest;
        exit when found = 0 or wanted::bigint * window_rows / found > 20000;
        window_rows := least(wanted::bigint * window_rows / found * 2 + 100, 20000);
      end loop;
      -- seq + 0: sorted after the index found them, never by walking the whole history.
      return query execute 'select s.seq' || scope || ' and s.seq < $3'
        || ' and s.search_text ilike $2 order by s.seq + 0 desc limit $5'
        using tenant, pattern, boundary, by_user, wanted;
    end
    $$`.execute(db);
  await sql`revoke all on function tenant_event_search(text, bigint, uuid, integer) from public`.execute(
    db,
  );
  await sql`grant execute on function tenant_event_search(text, bigint, uuid, integer)
    to ${runtime}`.execute(db);

  await sql`alter table quarantine enable row level security`.execute(db);
  await sql`alter table quarantine force row level security`.execute(db);
  await sql`create policy quarantine_intake on quarantine for insert to ${runtime}
    with check (true)`.execute(db);
  await sql`revoke select on quarantine from ${runtime}`.execute(db);
}
