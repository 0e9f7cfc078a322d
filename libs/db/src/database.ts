import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { quoteIdentifier } from './errors.js';

/** How a service connects to Postgres. */
export interface DatabaseOptions {
  readonly connectionString: string;
  /** The service's own schema; it becomes the connection's search_path. */
  readonly schema?: string;
  /** Shown in pg_stat_activity. */
  readonly applicationName: string;
  readonly maxConnections?: number;
  /** Per-statement limit, so a stuck query cannot hold a connection forever. */
  readonly statementTimeoutMs?: number;
}

// bigint columns (sequence numbers, counters) come back as numbers, refused beyond 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => {
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new RangeError(`bigint ${text} exceeds the safe integer range`);
  return value;
});

/** A Kysely instance over a pg pool, with the service's search_path and timeouts set per connection. */
export function createDatabase<DB>(options: DatabaseOptions): Kysely<DB> {
  const settings = [`-c statement_timeout=${options.statementTimeoutMs ?? 30_000}`];
  if (options.schema !== undefined)
    settings.push(`-c search_path=${quoteIdentifier(options.schema)}`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    application_name: options.applicationName,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    options: settings.join(' '),
  });
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
