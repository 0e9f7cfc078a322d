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
  /**
   * TLS to Postgres, verified as libpq's `sslmode=verify-full`: the server's certificate must
   * chain to `ca` and name the host connected to, and TLS 1.3 is the least accepted. Absent:
   * no TLS. The connection string must then carry no `ssl…` parameter of its own (node-postgres
   * would let it replace these settings).
   */
  readonly tls?: DatabaseTls;
}

/** How {@link createDatabase} verifies Postgres. */
export interface DatabaseTls {
  /** PEM of the CA (or CAs) that signed the server's certificate. */
  readonly ca: string | Buffer;
}

const SSL_PARAMETERS = ['ssl', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslnegotiation'];

/** The node-postgres `ssl` settings for {@link DatabaseTls}. */
export function postgresSsl(tls: DatabaseTls) {
  return { ca: tls.ca, rejectUnauthorized: true, minVersion: 'TLSv1.3' } as const;
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
  if (options.tls !== undefined) {
    const url = new URL(options.connectionString);
    const carried = SSL_PARAMETERS.filter((name) => url.searchParams.has(name));
    if (carried.length > 0) {
      throw new Error(
        `the Postgres URL carries ${carried.join(', ')}: with TLS settings given, it must carry none`,
      );
    }
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    ...(options.tls === undefined ? {} : { ssl: postgresSsl(options.tls) }),
    application_name: options.applicationName,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    options: settings.join(' '),
  });
  // An idle connection the server ended (a restart, a failover, pg_terminate_backend) is dropped
  // by the pool and replaced at the next query, where a lasting failure surfaces. Unheard, the
  // pool's 'error' event would end the process instead.
  pool.on('error', () => undefined);
  // One ended while checked out (a transaction waiting between statements) emits 'error' on the
  // client itself, which would end the process; its holder's next statement fails instead, and
  // the pool drops the broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
