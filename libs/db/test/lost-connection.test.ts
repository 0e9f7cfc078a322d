import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql, type Kysely } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';

describe('a connection the server ends while it is checked out (real Postgres)', () => {
  let testDb: TestDatabase;
  let admin: Kysely<unknown>;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    admin = createDatabase<unknown>({
      connectionString: testDb.adminUrl,
      applicationName: 'lost-connection-admin',
    });
  });
  afterAll(async () => {
    await admin?.destroy();
    await testDb?.drop();
  });

  it('fails the transaction that held it, not the process, and the pool goes on', async () => {
    const db = createDatabase<unknown>({
      connectionString: testDb.adminUrl,
      applicationName: 'lost-connection-test',
    });
    const uncaught: unknown[] = [];
    const listener = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', listener);
    try {
      const outcome = db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        const pid = rows[0]!.pid;
        // A failover, a restart or an operator ends the session between two statements (say,
        // while the transaction waits on a provider).
        await sql`select pg_terminate_backend(${pid})`.execute(admin);
        for (let gone = false; !gone;) {
          const { rows: alive } = await sql<{ n: number }>`
            select count(*)::int as n from pg_stat_activity where pid = ${pid}`.execute(admin);
          gone = alive[0]!.n === 0;
        }
        // Let the client read the server's goodbye before it is used again.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setTimeout(resolve, 50));
        await sql`select 1`.execute(trx);
      });
      await expect(outcome).rejects.toThrow();
      expect(uncaught).toEqual([]);
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', listener);
      await db.destroy();
    }
  });
});
