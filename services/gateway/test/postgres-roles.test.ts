import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql, type Kysely, type Transaction } from '@heroagent/db';
import {
  createTestDatabase,
  type ProvisionedService,
  type TestDatabase,
} from '@heroagent/db/testing';
import { migrations } from '../migrations/index.js';
import { createLogger } from '@heroagent/telemetry';
import { GATEWAY_JOBS, gatewayConfigSchema } from '../src/config.js';
import { startGateway } from '../src/gateway.js';

/**
 * The gateway's Postgres roles, attacked directly: the runtime role (what every request runs as)
 * switching on the settings that used to open cross-tenant policies, and the relay and sweeper
 * roles reaching for what their jobs do not need. Rows are written as the superuser, so the
 * policies under test are the only thing between each role and each row.
 */
describe('the gateway’s Postgres roles', { timeout: 60_000 }, () => {
  let testDb: TestDatabase;
  let service: ProvisionedService;
  let admin: Kysely<unknown>;
  let runtime: Kysely<unknown>;
  let relay: Kysely<unknown>;
  let sweeper: Kysely<unknown>;
  const a = { tenant: randomUUID(), user: randomUUID(), running: randomUUID(), done: randomUUID() };
  const b = { tenant: randomUUID(), user: randomUUID(), running: randomUUID(), done: randomUUID() };
  const STATUSES = ['executing', 'scheduled', 'pending_approval', 'completed'] as const;
  const actionOf = (tenant: { tenant: string }, status: string) =>
    `${tenant.tenant.slice(0, 8)}-0000-4000-8000-${String(STATUSES.indexOf(status as never) + 1).padStart(12, '0')}`;
  const OLD_SETTINGS = [
    'app.outbox_relay',
    'app.stale_sweep',
    'app.send_release',
    'app.approval_sweep',
    'app.retention_sweep',
  ];

  const connect = (url: string) =>
    createDatabase<unknown>({
      connectionString: url,
      schema: 'gateway',
      applicationName: 'postgres-roles-test',
      maxConnections: 1,
    });

  beforeAll(async () => {
    testDb = await createTestDatabase();
    service = await testDb.provisionService('gateway', { jobs: GATEWAY_JOBS });
    await service.migrate(migrations);
    admin = connect(testDb.adminUrl);
    runtime = connect(service.runtimeUrl);
    relay = connect(service.jobUrls.relay!);
    sweeper = connect(service.jobUrls.sweeper!);
    const old = new Date(Date.now() - 86_400_000 * 60);
    for (const t of [a, b]) {
      await sql`insert into gateway.tenants (id, name) values (${t.tenant}, 'T')`.execute(admin);
      await sql`insert into gateway.users (id, email, email_verified)
        values (${t.user}, ${`${t.user}@example.com`}, true)`.execute(admin);
      for (const [task, status] of [
        [t.running, 'running'],
        [t.done, 'stopped'],
      ] as const) {
        await sql`insert into gateway.tasks (id, tenant_id, user_id, title, actions, limits,
            capability_id, status, created_at, expires_at)
          values (${task}, ${t.tenant}, ${t.user}, 'Secret title', '{}', '{}', ${randomUUID()},
            ${status}, ${old}, now() + interval '1 day')`.execute(admin);
      }
      for (const status of STATUSES) {
        await sql`insert into gateway.actions (id, tenant_id, task_id, user_id, capability_id, type,
            class, idempotency_key, request_hash, params, rationale, status, policy,
            audit_event_id, release_at, updated_at)
          values (${actionOf(t, status)}, ${t.tenant}, ${t.running}, ${t.user}, ${randomUUID()},
            'gmail.messages.send', 'irreversible', ${status}, '\\x00', '{}', 'why', ${status}, '{}',
            ${randomUUID()}, ${status === 'scheduled' ? old : null}, ${old})`.execute(admin);
      }
      await sql`insert into gateway.approvals (id, tenant_id, action_id, user_id, status, required,
          reason, expires_at)
        values (${randomUUID()}, ${t.tenant}, ${actionOf(t, 'pending_approval')}, ${t.user},
          'pending', 1, 'because', ${old})`.execute(admin);
      await sql`insert into gateway.audit_outbox (id, tenant_id, envelope)
        values (${randomUUID()}, ${t.tenant}, '{}')`.execute(admin);
      await sql`insert into gateway.tenant_retention (tenant_id, task_history_days, updated_at,
          updated_by) values (${t.tenant}, 30, now(), ${t.user})`.execute(admin);
      // A's session is live, B's expired.
      const expiry = t === a ? sql`now() + interval '1 hour'` : sql`now() - interval '1 hour'`;
      await sql`insert into gateway.sessions (id, token_hash, user_id, tenant_id, idle_expires_at,
          expires_at, ip) values (${randomUUID()}, ${randomUUID()}::text::bytea, ${t.user},
          ${t.tenant}, ${expiry}, ${expiry}, '192.0.2.1')`.execute(admin);
    }
  });

  afterAll(async () => {
    for (const db of [runtime, relay, sweeper, admin]) await db?.destroy();
    await testDb?.drop();
  });

  const ROLLBACK = new Error('rolled back on purpose');
  /** Runs `fn` in a transaction that is then rolled back, answering what `fn` answered. */
  async function rolledBack<T>(db: Kysely<unknown>, fn: (trx: Transaction<unknown>) => Promise<T>) {
    let result: T | undefined;
    await db
      .transaction()
      .execute(async (trx) => {
        result = await fn(trx);
        throw ROLLBACK;
      })
      .catch((error: unknown) => {
        if (error !== ROLLBACK) throw error;
      });
    return result as T;
  }
  const tenantsSeen = async (trx: Transaction<unknown>, table: string) =>
    (
      await sql<{ tenant_id: string }>`select distinct tenant_id from ${sql.table(table)}`.execute(
        trx,
      )
    ).rows
      .map((row) => row.tenant_id)
      .sort();
  const affected = async (trx: Transaction<unknown>, statement: string) =>
    Number((await sql.raw(statement).execute(trx)).numAffectedRows ?? 0);

  it.each(OLD_SETTINGS)(
    'gives the runtime role nothing across tenants for %s = on',
    async (setting) => {
      const seen = await rolledBack(runtime, async (trx) => {
        await sql`select set_config(${setting}, 'on', true)`.execute(trx);
        const visible: Record<string, string[]> = {};
        for (const table of ['audit_outbox', 'actions', 'approvals', 'tasks', 'tenant_retention'])
          visible[table] = await tenantsSeen(trx, table);
        const changed = {
          outboxPublished: await affected(trx, `update audit_outbox set published_at = now()`),
          outboxDeleted: await affected(trx, `delete from audit_outbox`),
          actionsFailed: await affected(
            trx,
            `update actions set status = 'failed' where status = 'executing'`,
          ),
          actionsClaimed: await affected(
            trx,
            `update actions set status = 'executing' where status = 'scheduled'`,
          ),
          actionsExpired: await affected(
            trx,
            `update actions set status = 'expired' where status = 'pending_approval'`,
          ),
          approvalsExpired: await affected(trx, `update approvals set status = 'expired'`),
          tasksDeleted: await affected(trx, `delete from tasks where status <> 'running'`),
        };
        return { visible, changed };
      });
      expect(seen).toEqual({
        visible: {
          audit_outbox: [],
          actions: [],
          approvals: [],
          tasks: [],
          tenant_retention: [],
        },
        changed: {
          outboxPublished: 0,
          outboxDeleted: 0,
          actionsFailed: 0,
          actionsClaimed: 0,
          actionsExpired: 0,
          approvalsExpired: 0,
          tasksDeleted: 0,
        },
      });
    },
  );

  it('keeps the runtime role to the tenant it set, whatever else it switches on', async () => {
    const seen = await rolledBack(runtime, async (trx) => {
      await sql`select set_config('app.tenant_id', ${a.tenant}, true)`.execute(trx);
      for (const setting of OLD_SETTINGS)
        await sql`select set_config(${setting}, 'on', true)`.execute(trx);
      const visible: string[] = [];
      for (const table of ['audit_outbox', 'actions', 'approvals', 'tasks', 'tenant_retention'])
        visible.push(...(await tenantsSeen(trx, table)));
      return {
        visible: [...new Set(visible)],
        outboxOfB: await affected(
          trx,
          `update audit_outbox set published_at = now() where tenant_id = '${b.tenant}'`,
        ),
      };
    });
    expect(seen).toEqual({ visible: [a.tenant], outboxOfB: 0 });
  });

  it('refuses the runtime role any DDL: it cannot migrate, nor undo a policy', async () => {
    await expect(sql`create table gateway.evil (id int)`.execute(runtime)).rejects.toThrow(
      /permission denied for schema gateway/,
    );
    await expect(sql`create table public.evil (id int)`.execute(runtime)).rejects.toThrow(
      /permission denied for schema public/,
    );
    await expect(
      sql`create function gateway.evil() returns int language sql as 'select 1'`.execute(runtime),
    ).rejects.toThrow(/permission denied/);
    await expect(
      sql`alter table audit_outbox no force row level security`.execute(runtime),
    ).rejects.toThrow(/must be owner/);
    await expect(
      sql`drop policy audit_outbox_relay_reads on audit_outbox`.execute(runtime),
    ).rejects.toThrow(/must be owner/);
    await expect(sql`delete from migrations`.execute(runtime)).rejects.toThrow(/permission denied/);
  });

  it('will not start with a job connecting as the schema owner', async () => {
    const key = () => randomBytes(32).toString('base64url');
    const config = gatewayConfigSchema.parse({
      HEROAGENT_ENV: 'test',
      DATABASE_URL: service.runtimeUrl,
      DATABASE_RELAY_URL: service.ownerUrl,
      DATABASE_SWEEPER_URL: service.jobUrls.sweeper,
      SERVICE_SIGNING_KEY: key(),
      SERVICE_SEALING_KEY: key(),
    });
    await expect(
      startGateway(config, createLogger({ service: 'gateway', level: 'silent' })),
    ).rejects.toThrow(expect.objectContaining({ code: 'UNSAFE_ROLE' }) as Error);
  });

  it('lets the relay read and mark every tenant’s outbox, and nothing else', async () => {
    const seen = await rolledBack(relay, async (trx) => ({
      tenants: await tenantsSeen(trx, 'audit_outbox'),
      marked: await affected(trx, `update audit_outbox set published_at = now()`),
    }));
    expect(seen).toEqual({ tenants: [a.tenant, b.tenant].sort(), marked: 2 });
    // It deletes only what was published.
    expect(await rolledBack(relay, (trx) => affected(trx, `delete from audit_outbox`))).toBe(0);
    for (const table of ['tasks', 'actions', 'approvals', 'tenant_retention', 'users', 'sessions'])
      await expect(sql`select * from ${sql.table(table)}`.execute(relay), table).rejects.toThrow(
        /permission denied/,
      );
    await expect(
      sql`insert into audit_outbox (id, tenant_id, envelope)
        values (${randomUUID()}, ${a.tenant}, '{}')`.execute(relay),
    ).rejects.toThrow(/permission denied/);
    await expect(sql`update audit_outbox set envelope = '{}'`.execute(relay)).rejects.toThrow(
      /permission denied/,
    );
  });

  it('lets the sweeper write audit events but never read the outbox', async () => {
    await expect(sql`select id from audit_outbox`.execute(sweeper)).rejects.toThrow(
      /permission denied/,
    );
    await expect(sql`delete from audit_outbox`.execute(sweeper)).rejects.toThrow(
      /permission denied/,
    );
    expect(
      await rolledBack(sweeper, (trx) =>
        affected(
          trx,
          `insert into audit_outbox (id, tenant_id, envelope)
            values ('${randomUUID()}', '${b.tenant}', '{}')`,
        ),
      ),
    ).toBe(1);
  });

  it('leaves expired sessions to the sweeper, which sees of them only ids and times', async () => {
    expect(
      await rolledBack(runtime, async (trx) => ({
        seen: (await sql`select id from sessions`.execute(trx)).rows.length,
        deleted: await affected(trx, `delete from sessions`),
      })),
    ).toEqual({ seen: 0, deleted: 0 });
    expect(
      await rolledBack(sweeper, async (trx) => ({
        seen: (await sql`select id, expires_at from sessions`.execute(trx)).rows.length,
        deleted: await affected(trx, `delete from sessions`),
      })),
    ).toEqual({ seen: 1, deleted: 1 });
    for (const column of ['user_id', 'tenant_id', 'ip', 'token_hash'])
      await expect(
        sql`select ${sql.ref(column)} from sessions`.execute(sweeper),
        column,
      ).rejects.toThrow(/permission denied/);
  });

  it('shows the sweeper, across tenants, only the actions its sweeps are about', async () => {
    const seen = await rolledBack(sweeper, async (trx) => {
      // Even with a tenant set, the runtime role's tenant policy is not the sweeper's.
      await sql`select set_config('app.tenant_id', ${a.tenant}, true)`.execute(trx);
      return (
        await sql<{ tenant_id: string; status: string }>`
          select tenant_id, status from actions order by status, tenant_id`.execute(trx)
      ).rows;
    });
    const both = [a.tenant, b.tenant].sort();
    expect(seen).toEqual(
      ['executing', 'pending_approval', 'scheduled'].flatMap((status) =>
        both.map((tenant_id) => ({ tenant_id, status })),
      ),
    );
  });

  it('lets the sweeper fail stale actions and expire approvals, and make nothing else of them', async () => {
    const changed = await rolledBack(sweeper, async (trx) => ({
      failed: await affected(
        trx,
        `update actions set status = 'failed', completed_at = now() where status = 'executing'`,
      ),
      expired: await affected(
        trx,
        `update actions set status = 'expired' where status = 'pending_approval'`,
      ),
      approvals: await affected(trx, `update approvals set status = 'expired', decided_at = now()`),
    }));
    expect(changed).toEqual({ failed: 2, expired: 2, approvals: 2 });
    // A due send is listed, never claimed: the claim is made in the tenant's transaction.
    expect(
      await rolledBack(sweeper, (trx) =>
        affected(trx, `update actions set status = 'executing' where status = 'scheduled'`),
      ),
    ).toBe(0);
    await expect(
      sql`update actions set status = 'completed' where status = 'executing'`.execute(sweeper),
    ).rejects.toThrow(/row-level security/);
    await expect(
      sql`update actions set params = '{"to":"evil@example.com"}'`.execute(sweeper),
    ).rejects.toThrow(/permission denied/);
    await expect(sql`delete from actions`.execute(sweeper)).rejects.toThrow(/permission denied/);
    await expect(sql`update approvals set decisions = '[]'`.execute(sweeper)).rejects.toThrow(
      /permission denied/,
    );
  });

  it('lets the sweeper see and delete finished tasks only, never what a person wrote', async () => {
    const outcome = await rolledBack(sweeper, async (trx) => {
      await sql`select set_config('app.tenant_id', ${a.tenant}, true)`.execute(trx);
      const visible = (
        await sql<{ id: string }>`select id from tasks order by id`.execute(trx)
      ).rows.map((row) => row.id);
      const deleted = (
        await sql<{ id: string }>`delete from tasks returning id`.execute(trx)
      ).rows.map((row) => row.id);
      const limits = (
        await sql<{ tenant_id: string }>`select tenant_id from tenant_retention`.execute(trx)
      ).rows.map((row) => row.tenant_id);
      return { visible, deleted: deleted.sort(), limits: limits.sort() };
    });
    const finished = [a.done, b.done].sort();
    expect(outcome).toEqual({
      visible: finished,
      deleted: finished,
      limits: [a.tenant, b.tenant].sort(),
    });
    for (const query of [
      sql`select title from tasks`,
      sql`select request from tasks`,
      sql`update tenant_retention set task_history_days = 7`,
      sql`select * from users`,
      sql`select * from sessions`,
      sql`select * from task_events`,
    ])
      await expect(query.execute(sweeper)).rejects.toThrow(/permission denied/);
  });
});
