import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  advisoryLockKey,
  createDatabase,
  holdSessionLock,
  sql,
  type Kysely,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';

describe('a session lock held on a connection of its own (real Postgres)', () => {
  let testDb: TestDatabase;
  let other: Kysely<unknown>;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    other = createDatabase<unknown>({
      connectionString: testDb.adminUrl,
      applicationName: 'session-lock-test',
    });
  });
  afterAll(async () => {
    await other?.destroy();
    await testDb?.drop();
  });

  /** Whether another session could take the lock now (it then lets go at once). */
  async function free(key: string): Promise<boolean> {
    return other.transaction().execute(async (trx) => {
      const { rows } = await sql<{ free: boolean }>`
        select pg_try_advisory_xact_lock_shared(${advisoryLockKey(key)}) as free`.execute(trx);
      return rows[0]!.free;
    });
  }

  function hold(key: string, lost: Error[] = []) {
    return holdSessionLock({
      connectionString: testDb.adminUrl,
      applicationName: 'session-lock-holder',
      key,
      onLost: (error) => lost.push(error),
    });
  }

  it('is held until released, and free afterwards', async () => {
    const key = `test.lock:${randomUUID()}`;
    const lost: Error[] = [];
    const lock = await hold(key, lost);
    expect(lock.held).toBe(true);
    expect(await free(key)).toBe(false);
    // Other keys are not held by it.
    expect(await free(`test.lock:${randomUUID()}`)).toBe(true);
    await lock.release();
    expect(lock.held).toBe(false);
    expect(await free(key)).toBe(true);
    expect(lost).toEqual([]);
  });

  it('is free once its session ends, and says it was lost', async () => {
    const key = `test.lock:${randomUUID()}`;
    const lost: Error[] = [];
    const lock = await hold(key, lost);
    const ended = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (lost.length > 0) {
          clearInterval(check);
          resolve();
        }
      }, 10);
    });
    await sql`select pg_terminate_backend(${lock.pid})`.execute(other);
    await ended;
    expect(lock.held).toBe(false);
    expect(lost).toHaveLength(1);
    expect(await free(key)).toBe(true);
    await lock.release();
    expect(lost).toHaveLength(1);
  });

  it('keys a string as withTenant does', async () => {
    const key = `test.lock:${randomUUID()}`;
    const { rows } = await sql<{ hashed: string; direct: string }>`
      select ${advisoryLockKey(key)}::text as hashed, hashtextextended(${key}, 0)::text as direct
    `.execute(other);
    expect(rows[0]!.hashed).toBe(rows[0]!.direct);
  });
});
