import { sql, type Kysely } from '@heroagent/db';
import type { VaultProxyDatabase } from '../store-tables.js';

/** Waiting for another replica's use of a connection's refresh token took longer than allowed. */
export class RefreshLockTimeout extends Error {}

/** lock_not_available (lock_timeout) and query_canceled (statement_timeout). */
const GAVE_UP = new Set(['55P03', '57014']);

/**
 * The cluster-wide lock on a connection's refresh token: a Postgres advisory lock keyed by the
 * connection, taken in a transaction that lasts as long as the work, so that of every
 * vault-proxy replica only one reads, spends and replaces a connection's refresh token at a time.
 * Its transaction holds one pooled connection, idle, while the work uses others.
 */
export class RefreshLocks {
  constructor(private readonly db: Kysely<VaultProxyDatabase>) {}

  /**
   * Runs `work` holding the lock of `connectionId`; waits at most `waitMs` for it, then throws
   * {@link RefreshLockTimeout}.
   */
  async holding<T>(connectionId: string, waitMs: number, work: () => Promise<T>): Promise<T> {
    let locked = false;
    try {
      return await this.db.transaction().execute(async (trx) => {
        await sql`select set_config('lock_timeout', ${`${Math.ceil(waitMs)}ms`}, true)`.execute(
          trx,
        );
        await sql`select pg_advisory_xact_lock(hashtextextended(${`vault-proxy.refresh:${connectionId.toLowerCase()}`}, 0))`.execute(
          trx,
        );
        locked = true;
        return work();
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (!locked && typeof code === 'string' && GAVE_UP.has(code)) {
        throw new RefreshLockTimeout(
          `another replica has been using this connection's refresh token for over ${Math.round(waitMs / 1000)} s`,
        );
      }
      throw error;
    }
  }
}
