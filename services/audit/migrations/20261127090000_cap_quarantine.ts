import { sql, type Kysely } from '@heroagent/db';

/**
 * A refused event is kept as its SHA-256 hash, its size and a prefix of at most 1 KiB, no longer
 * whole: a producer flooding bad messages cannot fill the append-only quarantine. Rows already
 * stored keep their payloads (the table is append-only); the check holds for every new row.
 *
 * `quarantine_budget`: token buckets that bound how many refused events are kept, per tenant
 * (keyed by the tenant token of the subject) and for all tenants (`*`), shared by every audit
 * replica; what is over budget is only counted (`dropped`), beside what was kept (`kept`).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table quarantine
      add column payload_sha256 bytea check (payload_sha256 is null or octet_length(payload_sha256) = 32),
      add column payload_bytes integer check (payload_bytes is null or payload_bytes >= 0)`.execute(
    db,
  );
  // NOT VALID: rows stored before this migration are not checked, every new one is.
  await sql`
    alter table quarantine add constraint quarantine_payload_capped check (
      octet_length(payload) <= 1024 and payload_sha256 is not null
      and payload_bytes is not null and payload_bytes >= octet_length(payload)
    ) not valid`.execute(db);

  await sql`
    create table quarantine_budget (
      bucket text primary key check (bucket = '*' or bucket like 'tenant:%'),
      tokens double precision not null check (tokens >= 0),
      refilled_at timestamptz not null,
      kept bigint not null default 0 check (kept >= 0),
      dropped bigint not null default 0 check (dropped >= 0)
    )`.execute(db);
}
