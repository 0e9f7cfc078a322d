import { sql, type Kysely } from '@heroagent/db';

/**
 * The HTTP rate limits' counters, shared by every gateway replica: one row per route, limit and
 * client (`key` is the throttler's SHA-256 of route and address, never the address itself), the
 * hits of the current window and when it ends. Unlogged, like vault-proxy's seen requests: a hit
 * costs no WAL flush, and a crash or a failover only resets the windows in progress. No tenant's
 * data, so no row-level security (see tools/platform-tests/test/row-security.test.ts); the runtime
 * role reads and writes it by the schema's default privileges.
 *
 * Frozen: it never imports application code.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create unlogged table http_rate_limits (
      key text not null check (length(key) <= 128),
      throttler text not null check (length(throttler) <= 64),
      hits integer not null check (hits > 0),
      window_ends_at timestamptz not null,
      primary key (key, throttler)
    )`.execute(db);
  await sql`create index http_rate_limits_by_end on http_rate_limits (window_ends_at)`.execute(db);
}
