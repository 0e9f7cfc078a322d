import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql, withTenantReading, type Kysely } from '@heroagent/db';
import { createTestDatabase, type TestDatabase } from '@heroagent/db/testing';
import { migrations } from '../migrations/index.js';
import { COUNTED, SPENDING } from '../src/actions/action-counts.js';
import { admissionLocks } from '../src/actions/admission-locks.js';
import { GATEWAY_JOBS } from '../src/config.js';

interface Reads {
  earlier_id: string | null;
  task_status: string | null;
  role: string | null;
  last_hour: number;
  task_actions: number;
}

/**
 * The two SQL functions of an action's path (migration 20261206040000), attacked directly as the
 * runtime role: missing arguments, another tenant's rows, a second finish, and a read racing a
 * commit it must see because it runs after the admission locks. Rows are set up as the superuser.
 */
describe('admission_reads and finish_action', { timeout: 60_000 }, () => {
  let testDb: TestDatabase;
  let admin: Kysely<unknown>;
  let runtime: Kysely<unknown>;
  const a = {
    tenant: randomUUID(),
    user: randomUUID(),
    task: randomUUID(),
    capability: randomUUID(),
  };
  const b = {
    tenant: randomUUID(),
    user: randomUUID(),
    task: randomUUID(),
    capability: randomUUID(),
  };

  const connect = (url: string) =>
    createDatabase<unknown>({
      connectionString: url,
      schema: 'gateway',
      applicationName: 'action-functions-test',
      maxConnections: 2,
    });

  const insertAction = (t: typeof a, status: string, key: string = randomUUID()) => {
    const id = randomUUID();
    return sql`insert into gateway.actions (id, tenant_id, task_id, user_id, capability_id, type,
        class, idempotency_key, request_hash, params, rationale, status, policy, audit_event_id)
      values (${id}, ${t.tenant}, ${t.task}, ${t.user}, ${t.capability}, 'gmail.messages.search',
        'read', ${key}, '\\x00', '{}', 'why', ${status}, '{}', ${randomUUID()})`
      .execute(admin)
      .then(() => id);
  };

  /** `admission_reads` for person `t`'s task, in a transaction set to `tenant`. */
  const readsCall = (t: typeof a, key: string | null = null) => {
    const now = new Date();
    return sql<Reads>`admission_reads(${t.tenant}::uuid, ${t.user}::uuid, ${t.task}::uuid,
      ${t.capability}::uuid, ${key}::text, 'gmail.messages.search'::text, null::text,
      ${new Date(now.getTime() - 3_600_000)}::timestamptz,
      ${new Date(now.getTime() - 86_400_000)}::timestamptz, ${now}::timestamptz, null::uuid,
      ${COUNTED}::text[], ${SPENDING}::text[])`;
  };
  const readAs = (tenant: string, t: typeof a, key: string | null = null) =>
    withTenantReading(runtime, tenant, {}, readsCall(t, key), (_trx, read) =>
      Promise.resolve(read!),
    );

  const finish = (
    tenant: string | null,
    actionId: string | null,
    eventId: string | null = randomUUID(),
  ) =>
    sql<{ moved: boolean }>`select gateway.finish_action(${tenant}::uuid, ${actionId}::uuid,
      'executing', 'completed', '{"found":1}'::jsonb, null, null, ${eventId}::uuid,
      '{"event":{}}'::jsonb, now()) as moved`
      .execute(runtime)
      .then(({ rows }) => rows[0]!.moved);

  const outboxOf = async (eventId: string) =>
    (await sql`select id from gateway.audit_outbox where id = ${eventId}`.execute(admin)).rows
      .length;
  const statusOf = async (id: string) =>
    (
      await sql<{ status: string }>`select status from gateway.actions where id = ${id}`.execute(
        admin,
      )
    ).rows[0]!.status;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const service = await testDb.provisionService('gateway', { jobs: GATEWAY_JOBS });
    await service.migrate(migrations);
    admin = connect(testDb.adminUrl);
    runtime = connect(service.runtimeUrl);
    for (const t of [a, b]) {
      await sql`insert into gateway.tenants (id, name) values (${t.tenant}, 'T')`.execute(admin);
      await sql`insert into gateway.users (id, email, email_verified)
        values (${t.user}, ${`${t.user}@example.com`}, true)`.execute(admin);
      await sql`insert into gateway.memberships (tenant_id, user_id, role)
        values (${t.tenant}, ${t.user}, 'member')`.execute(admin);
      await sql`insert into gateway.tasks (id, tenant_id, user_id, title, actions, limits,
          capability_id, status, expires_at)
        values (${t.task}, ${t.tenant}, ${t.user}, 'T', '{}', '{}', ${t.capability}, 'running',
          now() + interval '1 day')`.execute(admin);
    }
  });

  afterAll(async () => {
    for (const db of [runtime, admin]) await db?.destroy();
    await testDb?.drop();
  });

  it('refuses a missing argument (22004) and writes nothing', async () => {
    const id = await insertAction(a, 'executing');
    const eventId = randomUUID();
    for (const call of [
      () => finish(null, id, eventId),
      () => finish(a.tenant, null, eventId),
      () => finish(a.tenant, id, null),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: '22004' });
    }
    expect(await statusOf(id)).toBe('executing');
    expect(await outboxOf(eventId)).toBe(0);
    await expect(
      withTenantReading(
        runtime,
        a.tenant,
        {},
        sql`admission_reads(${a.tenant}::uuid, null, ${a.task}::uuid, ${a.capability}::uuid,
          null, 'gmail.messages.search', null, now(), now(), now(), null, ${COUNTED}::text[],
          ${SPENDING}::text[])`,
        () => Promise.resolve(),
      ),
    ).rejects.toMatchObject({ code: '22004' });
  });

  it('finishes an action once, with its event; a second finish changes nothing', async () => {
    const id = await insertAction(a, 'executing');
    const first = randomUUID();
    const second = randomUUID();
    expect(await finish(a.tenant, id, first)).toBe(true);
    expect(await finish(a.tenant, id, second)).toBe(false);
    expect(await statusOf(id)).toBe('completed');
    expect(await outboxOf(first)).toBe(1);
    expect(await outboxOf(second)).toBe(0);
  });

  it('cannot finish another tenant’s action by naming its own tenant', async () => {
    const id = await insertAction(b, 'executing');
    const eventId = randomUUID();
    expect(await finish(a.tenant, id, eventId)).toBe(false);
    expect(await statusOf(id)).toBe('executing');
    expect(await outboxOf(eventId)).toBe(0);
  });

  it('reads nothing of another tenant', async () => {
    const key = `key-${randomUUID()}`;
    const id = await insertAction(b, 'completed', key);
    const own = await readAs(b.tenant, b, key);
    expect(own).toMatchObject({ earlier_id: id, task_status: 'running', role: 'member' });
    expect(own.task_actions).toBeGreaterThan(0);
    // B's person, task and key asked for, in A's tenant: row-level security hides all of it.
    const across = await readAs(a.tenant, b, key);
    expect(across).toMatchObject({
      earlier_id: null,
      task_status: null,
      role: null,
      last_hour: 0,
      task_actions: 0,
    });
  });

  it('reads, after the admission locks, an action committed while it waited for them', async () => {
    const before = (await readAs(a.tenant, a)).last_hour;
    const locks = admissionLocks(a.tenant, a.user);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    // Another admission of the person holds the lock and writes an action, then commits.
    const other = withTenantReading(admin, a.tenant, locks, undefined, async (trx) => {
      await sql`insert into gateway.actions (id, tenant_id, task_id, user_id, capability_id,
          type, class, idempotency_key, request_hash, params, rationale, status, policy,
          audit_event_id)
        values (${randomUUID()}, ${a.tenant}, ${a.task}, ${a.user}, ${a.capability},
          'gmail.messages.search', 'read', ${randomUUID()}, '\\x00', '{}', 'why', 'executing',
          '{}', ${randomUUID()})`.execute(trx);
      holding();
      await released;
    });
    await held;
    const waiting = withTenantReading(runtime, a.tenant, locks, readsCall(a), (_trx, read) =>
      Promise.resolve(read!),
    );
    // Only once the read waits on the lock does the other commit.
    for (;;) {
      const { rows } = await sql<{ waiting: number }>`select count(*)::int as waiting
        from pg_locks where locktype = 'advisory' and not granted`.execute(admin);
      if (rows[0]!.waiting > 0) break;
    }
    release();
    await other;
    expect((await waiting).last_hour).toBe(before + 1);
  });
});
