import { createDatabase, sql, type Kysely } from '@heroagent/db';

/** Polls `check` until it holds (at most 20 s): a race test's way to wait for the other side. */
export async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('gave up waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Watches a test database for sessions waiting on a lock (a replica at a connection's lock). */
export class LockWatch {
  private readonly admin: Kysely<unknown>;

  constructor(adminUrl: string) {
    this.admin = createDatabase({
      connectionString: adminUrl,
      applicationName: 'vault-proxy-lock-watch',
      maxConnections: 1,
    });
  }

  /** Whether some session of the database waits for a lock now. */
  async waiting(): Promise<boolean> {
    const { rows } = await sql<{ waiting: number }>`
      select count(*)::int as waiting from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(this.admin);
    return rows[0]!.waiting > 0;
  }

  close(): Promise<void> {
    return this.admin.destroy();
  }
}
