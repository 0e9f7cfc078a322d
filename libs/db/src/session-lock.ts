import { sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import { postgresSsl, type DatabaseTls } from './database.js';

/**
 * The 64-bit advisory lock key of a string key, as SQL: `hashtextextended(key, 0)`. Every advisory
 * lock of the platform (`withTenant`'s locks, {@link holdSessionLock}) is keyed this way, so a
 * string names the same lock whoever takes it. `key` is a string (sent as a parameter) or an SQL
 * expression of type text (a key built from a column). A collision only serialises more than
 * needed.
 */
export function advisoryLockKey(key: string | RawBuilder<string>): RawBuilder<string> {
  return sql<string>`hashtextextended(${key}, 0)`;
}

/** What {@link holdSessionLock} connects with, and the lock it takes. */
export interface SessionLockOptions {
  readonly connectionString: string;
  readonly tls?: DatabaseTls;
  /** Shown in pg_stat_activity. */
  readonly applicationName: string;
  /** The lock's key (hashed by {@link advisoryLockKey}). */
  readonly key: string;
  /**
   * Called once if the connection ends while the lock is held (the server went away, the session
   * was terminated, the network broke): from then on, anyone may take the lock.
   */
  readonly onLost: (error: Error) => void;
}

/** A session-level advisory lock, held for as long as its connection stays open. */
export interface HeldSessionLock {
  readonly key: string;
  /** The backend process holding it (what `pg_terminate_backend` would end). */
  readonly pid: number;
  /** True until it is released or lost. */
  readonly held: boolean;
  /** Releases the lock and closes its connection. */
  release(): Promise<void>;
}

/**
 * Takes an exclusive session-level advisory lock (`pg_advisory_lock`) on a connection of its own,
 * outside any pool, and keeps that connection open until `release`: while this process's session
 * lives, no other session can take the lock, and once the session ends — the process was killed,
 * the connection dropped — Postgres releases it by itself. So the lock says, cluster-wide and
 * without timers, whether the holder is still there: another session that can take it
 * (`pg_try_advisory_xact_lock_shared`) knows the holder is gone.
 *
 * Waits for the lock if another session holds it. The session's idle timeout is off, so an idle
 * holder is not mistaken for a gone one; TCP keepalives are on at both ends, so a holder whose
 * host vanished is. The connection must reach Postgres itself (or a pooler in session mode): a
 * transaction-mode pooler would hand the session, and its lock, to others.
 */
export async function holdSessionLock(options: SessionLockOptions): Promise<HeldSessionLock> {
  const client = new pg.Client({
    connectionString: options.connectionString,
    ...(options.tls === undefined ? {} : { ssl: postgresSsl(options.tls) }),
    application_name: options.applicationName,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // The server probes the holder too, so a holder whose host vanished without closing the
    // connection (no FIN, no RST) loses the lock within about half a minute, not the kernel's
    // default of over two hours.
    options: [
      '-c idle_session_timeout=0',
      '-c statement_timeout=0',
      '-c tcp_keepalives_idle=10',
      '-c tcp_keepalives_interval=5',
      '-c tcp_keepalives_count=3',
    ].join(' '),
  });
  let held = false;
  let releasing = false;
  const lose = (error: Error) => {
    if (!held || releasing) return;
    held = false;
    options.onLost(error);
  };
  // Without a listener, an error on an idle client would be thrown at the process.
  client.on('error', lose);
  client.on('end', () => lose(new Error('the connection holding the lock ended')));
  try {
    await client.connect();
    // The key hashed as advisoryLockKey hashes it.
    const { rows } = await client.query<{ pid: number }>(
      'select pg_advisory_lock(hashtextextended($1, 0)), pg_backend_pid() as pid',
      [options.key],
    );
    held = true;
    const pid = rows[0]!.pid;
    return {
      key: options.key,
      pid,
      get held() {
        return held;
      },
      async release() {
        if (releasing) return;
        releasing = true;
        const was = held;
        held = false;
        // Ending the session releases the lock; unlocking first says so explicitly.
        if (was) await client.query('select pg_advisory_unlock_all()').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (error) {
    releasing = true;
    await client.end().catch(() => undefined);
    throw error;
  }
}
