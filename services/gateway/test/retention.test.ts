import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_RECORD_RETENTION } from '@heroagent/contracts';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import type { TestBrowser } from '@heroagent/doubles';
import { Housekeeping } from '../src/housekeeping.js';
import { ApplyRetention } from '../src/retention/apply-retention.js';
import { startGatewayFixture, type GatewayFixture, type SessionView } from './support/fixture.js';
import { person } from './support/people.js';

const DAY_MS = 24 * 60 * 60_000;

interface Signed {
  browser: TestBrowser;
  session: SessionView;
}

/**
 * How long a tenant keeps its task history: the setting (who may read and change it, its bounds,
 * its audit event) and the sweep that deletes finished tasks past it, with their timelines,
 * actions and approvals, and never a running task or another tenant's.
 */
describe('retention of task history', () => {
  let fixture: GatewayFixture;
  let admin: Kysely<unknown>;

  const retentionOf = async (browser: TestBrowser) => {
    const response = await fixture.call(browser, 'GET', '/v1/tenant/retention');
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const save = async (browser: TestBrowser, body: unknown) => {
    const response = await fixture.call(browser, 'POST', '/v1/tenant/retention', body);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const eventsOf = async (tenantId: string, name: string) =>
    (await fixture.auditEvents())
      .map((signed) => signed.event)
      .filter((event) => event.tenantId === tenantId && event.name === name);
  /** Someone invited into the owner's tenant with `role`, signed in. */
  const join = async (owner: Signed, role: 'admin' | 'auditor' | 'member'): Promise<Signed> => {
    const email = person(role).email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role })
    ).json()) as { token: string };
    return fixture.signIn({ sub: `sub-${email}`, email, name: role }, { invitation: token });
  };

  beforeAll(async () => {
    fixture = await startGatewayFixture();
    admin = createDatabase<unknown>({
      connectionString: fixture.database.adminUrl,
      schema: 'gateway',
      applicationName: 'gateway-test-admin',
    });
  });
  afterAll(async () => {
    await admin?.destroy();
    await fixture?.close();
  });

  describe('the setting', () => {
    it('keeps task history until the tenant is deleted, by default', async () => {
      const { browser } = await fixture.signIn(person('fresh'));
      expect(await retentionOf(browser)).toEqual({
        status: 200,
        body: {
          taskHistoryDays: null,
          updatedAt: null,
          updatedBy: null,
          auditRecord: AUDIT_RECORD_RETENTION,
        },
      });
      expect(AUDIT_RECORD_RETENTION).toMatch(/never shortened/);
      expect(AUDIT_RECORD_RETENTION).toMatch(/hash-chained/);
      expect(AUDIT_RECORD_RETENTION).toMatch(/only encrypted/);
    });

    it('saves and shows the setting, each change recorded in audit', async () => {
      const owner = await fixture.signIn(person('keeper'));
      const tenantId = owner.session.tenant!.id;
      const saved = await save(owner.browser, { taskHistoryDays: 90 });
      expect(saved).toMatchObject({
        status: 200,
        body: {
          taskHistoryDays: 90,
          updatedBy: owner.session.user.id,
          auditRecord: AUDIT_RECORD_RETENTION,
        },
      });
      expect(Date.parse(saved.body.updatedAt as string)).not.toBeNaN();
      expect(await retentionOf(owner.browser)).toEqual(saved);

      const adminOf = await join(owner, 'admin');
      const again = await save(adminOf.browser, { taskHistoryDays: null });
      expect(again).toMatchObject({
        status: 200,
        body: { taskHistoryDays: null, updatedBy: adminOf.session.user.id },
      });
      expect(await retentionOf(owner.browser)).toEqual(again);

      const changed = await eventsOf(tenantId, 'tenant.retention_changed');
      expect(changed).toHaveLength(2);
      expect(changed[0]).toMatchObject({
        actor: { type: 'user', id: owner.session.user.id },
        userId: owner.session.user.id,
        outcome: 'success',
        data: { taskHistoryDays: 90, previousTaskHistoryDays: null },
      });
      expect(changed[1]).toMatchObject({
        actor: { type: 'user', id: adminOf.session.user.id },
        data: { taskHistoryDays: null, previousTaskHistoryDays: 90 },
      });
    });

    it('refuses fewer than 7 days, more than 3650, and anything but a whole number or null; nothing changes', async () => {
      const owner = await fixture.signIn(person('bounded'));
      const tenantId = owner.session.tenant!.id;
      expect((await save(owner.browser, { taskHistoryDays: 7 })).status).toBe(200);
      expect((await save(owner.browser, { taskHistoryDays: 3650 })).status).toBe(200);
      const before = await retentionOf(owner.browser);
      const recorded = (await eventsOf(tenantId, 'tenant.retention_changed')).length;
      for (const body of [
        { taskHistoryDays: 6 },
        { taskHistoryDays: 3651 },
        { taskHistoryDays: '30' },
        { taskHistoryDays: 'forever' },
        { taskHistoryDays: 30.5 },
        {},
        { taskHistoryDays: 30, alsoDelete: 'audit' },
      ]) {
        const refused = await save(owner.browser, body);
        expect(refused, JSON.stringify(body)).toMatchObject({
          status: 400,
          body: { code: 'INVALID_REQUEST' },
        });
      }
      expect(await retentionOf(owner.browser)).toEqual(before);
      expect(await eventsOf(tenantId, 'tenant.retention_changed')).toHaveLength(recorded);
    });

    it('lets an auditor read it but not change it', async () => {
      const owner = await fixture.signIn(person('audited'));
      expect((await save(owner.browser, { taskHistoryDays: 30 })).status).toBe(200);
      const auditor = await join(owner, 'auditor');
      const shown = await retentionOf(auditor.browser);
      expect(shown).toMatchObject({ status: 200, body: { taskHistoryDays: 30 } });
      const refused = await save(auditor.browser, { taskHistoryDays: 7 });
      expect(refused).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      expect(await retentionOf(owner.browser)).toEqual(shown);
    });

    it('lets a member neither read nor change it', async () => {
      const owner = await fixture.signIn(person('team'));
      const member = await join(owner, 'member');
      expect(await retentionOf(member.browser)).toMatchObject({
        status: 403,
        body: { code: 'FORBIDDEN' },
      });
      expect(await save(member.browser, { taskHistoryDays: 7 })).toMatchObject({
        status: 403,
        body: { code: 'FORBIDDEN' },
      });
      expect((await retentionOf(owner.browser)).body.taskHistoryDays).toBeNull();
    });

    it('goes with the tenant when it is deleted', async () => {
      const owner = await fixture.signIn(person('leaving'));
      const tenantId = owner.session.tenant!.id;
      expect((await save(owner.browser, { taskHistoryDays: 30 })).status).toBe(200);
      const settings = async () =>
        (await sql`select 1 from tenant_retention where tenant_id = ${tenantId}`.execute(admin))
          .rows.length;
      expect(await settings()).toBe(1);
      const closed = await fixture.call(owner.browser, 'POST', '/v1/tenant/close', {
        confirm: owner.session.tenant!.name,
      });
      expect(closed.status).toBe(204);
      expect(await settings()).toBe(0);
    });
  });

  describe('the sweep', () => {
    /** Starts a task (driven by an API client: no agent), stopped unless asked to keep running. */
    const startTask = async (owner: Signed, title: string, stop = true): Promise<string> => {
      const started = await fixture.call(owner.browser, 'POST', '/v1/tasks', {
        title,
        actions: ['gmail.messages.search'],
      });
      expect(started.status).toBe(201);
      const { task } = (await started.json()) as { task: { id: string } };
      if (stop) {
        const stopped = await fixture.call(owner.browser, 'POST', `/v1/tasks/${task.id}/stop`, {});
        expect(stopped.status).toBe(204);
      }
      return task.id;
    };
    /** Moves a task's creation (and, if given, its expiry) into the past. */
    const backdate = async (taskId: string, daysAgo: number, expiredDaysAgo?: number) => {
      const createdAt = new Date(Date.now() - daysAgo * DAY_MS);
      await sql`update tasks set created_at = ${createdAt} where id = ${taskId}`.execute(admin);
      if (expiredDaysAgo !== undefined) {
        const expiresAt = new Date(Date.now() - expiredDaysAgo * DAY_MS);
        await sql`update tasks set expires_at = ${expiresAt} where id = ${taskId}`.execute(admin);
      }
    };
    /** A timeline entry, an action undone by another, and the approval of the first. */
    const giveHistory = async (taskId: string) => {
      const [task] = (
        await sql<{
          tenant_id: string;
          user_id: string;
          capability_id: string;
        }>`select tenant_id, user_id, capability_id from tasks where id = ${taskId}`.execute(admin)
      ).rows;
      const { tenant_id: tenantId, user_id: userId, capability_id: capabilityId } = task!;
      await sql`
        insert into task_events (tenant_id, task_id, seq, kind, at, body)
        values (${tenantId}, ${taskId}, 1, 'note', now(), ${JSON.stringify({ text: 'Done.' })})
      `.execute(admin);
      const action = async (id: string, undoes: string | null) => {
        const key = `key-${id}`;
        await sql`
          insert into actions (id, tenant_id, task_id, user_id, capability_id, type, class,
            idempotency_key, request_hash, params, rationale, status, policy, audit_event_id, undoes)
          values (${id}, ${tenantId}, ${taskId}, ${userId}, ${capabilityId},
            'gmail.drafts.create', 'reversible', ${key},
            ${createHash('sha256').update(key).digest()}, '{}', 'Asked for it.',
            ${undoes === null ? 'undone' : 'completed'}, '{}', ${randomUUID()}, ${undoes})
        `.execute(admin);
      };
      const original = randomUUID();
      await action(original, null);
      await action(randomUUID(), original);
      await sql`
        insert into approvals (id, tenant_id, action_id, user_id, status, required, reason, expires_at)
        values (${randomUUID()}, ${tenantId}, ${original}, ${userId}, 'approved', 1,
          'Writes need approval', now())
      `.execute(admin);
    };
    const count = async (table: string, taskId: string) =>
      Number(
        (
          await sql<{
            count: string;
          }>`select count(*) as count from ${sql.table(table)} where task_id = ${taskId}`.execute(
            admin,
          )
        ).rows[0]!.count,
      );
    const approvalsOf = async (taskId: string) =>
      Number(
        (
          await sql<{ count: string }>`
            select count(*) as count from approvals
            where action_id in (select id from actions where task_id = ${taskId})
          `.execute(admin)
        ).rows[0]!.count,
      );
    const remaining = async (tenantId: string) =>
      (
        await sql<{
          id: string;
        }>`select id from tasks where tenant_id = ${tenantId} order by id`.execute(admin)
      ).rows
        .map((row) => row.id)
        .sort();

    it('deletes the finished tasks past a tenant’s retention with their history, and nothing else', async () => {
      // Tenant A keeps 30 days: two of its tasks are past that and finished.
      const a = await fixture.signIn(person('sweeper'));
      const aTenant = a.session.tenant!.id;
      const oldStopped = await startTask(a, 'Old and stopped');
      const oldExpired = await startTask(a, 'Old and expired', false);
      const oldRunning = await startTask(a, 'Old and still running', false);
      const recent = await startTask(a, 'Recent and stopped');
      const almost = await startTask(a, 'Stopped 29 days ago');
      await backdate(oldStopped, 40);
      await backdate(oldExpired, 40, 39);
      await backdate(oldRunning, 40);
      await backdate(almost, 29);
      await giveHistory(oldStopped);
      await giveHistory(oldRunning);
      expect((await save(a.browser, { taskHistoryDays: 30 })).status).toBe(200);

      // Tenant B keeps everything; tenant C keeps ten years.
      const b = await fixture.signIn(person('hoarder'));
      const bOld = await startTask(b, 'B, old and stopped');
      await backdate(bOld, 4000);
      await giveHistory(bOld);
      const c = await fixture.signIn(person('archivist'));
      const cOld = await startTask(c, 'C, old and stopped');
      await backdate(cOld, 400);
      expect((await save(c.browser, { taskHistoryDays: 3650 })).status).toBe(200);

      const run = await fixture.gateway.app.get(ApplyRetention).execute();
      expect(run).toEqual({ tenants: 1, deletedTasks: 2 });

      expect(await remaining(aTenant)).toEqual([oldRunning, recent, almost].sort());
      for (const table of ['task_events', 'actions']) {
        expect(await count(table, oldStopped), table).toBe(0);
        expect(await count(table, oldRunning), table).toBeGreaterThan(0);
        expect(await count(table, bOld), table).toBeGreaterThan(0);
      }
      expect(await approvalsOf(oldStopped)).toBe(0);
      expect(await approvalsOf(oldRunning)).toBe(1);
      expect(await approvalsOf(bOld)).toBe(1);
      expect(await remaining(b.session.tenant!.id)).toEqual([bOld]);
      expect(await remaining(c.session.tenant!.id)).toEqual([cOld]);

      // The running task is still shown as running, its history intact.
      const listed = (await (await fixture.call(a.browser, 'GET', '/v1/tasks')).json()) as {
        tasks: { id: string; status: string }[];
      };
      expect(listed.tasks.find((task) => task.id === oldRunning)?.status).toBe('running');

      const applied = await eventsOf(aTenant, 'tenant.retention_applied');
      expect(applied).toHaveLength(1);
      expect(applied[0]).toMatchObject({
        source: 'gateway',
        actor: { type: 'service', id: 'gateway' },
        outcome: 'success',
        data: { taskHistoryDays: 30, deletedTasks: 2 },
      });
      expect(Date.parse(applied[0]!.data.createdBefore as string)).toBeLessThan(
        Date.now() - 29 * DAY_MS,
      );
      for (const other of [b, c]) {
        expect(await eventsOf(other.session.tenant!.id, 'tenant.retention_applied')).toEqual([]);
      }

      // A second run, as the housekeeping runs it, finds nothing more and records nothing.
      expect(await fixture.gateway.app.get(Housekeeping).retain()).toBe(0);
      expect(await eventsOf(aTenant, 'tenant.retention_applied')).toHaveLength(1);
      expect(await remaining(aTenant)).toEqual([oldRunning, recent, almost].sort());
    });

    it('runs as the sweeper role, whose row policies show it finished tasks only, and nothing more', async () => {
      const owner = await fixture.signIn(person('guarded'));
      const tenantId = owner.session.tenant!.id;
      const running = await startTask(owner, 'Running', false);
      const stopped = await startTask(owner, 'Stopped');
      expect((await save(owner.browser, { taskHistoryDays: 30 })).status).toBe(200);
      const as = (role: string, settings: Record<string, string>, statement: string) =>
        admin.transaction().execute(async (trx) => {
          await sql`select set_config('role', ${role}, true)`.execute(trx);
          for (const [name, value] of Object.entries(settings))
            await sql`select set_config(${name}, ${value}, true)`.execute(trx);
          return sql.raw<{ id: string }>(statement).execute(trx);
        });
      const { runtime, sweeper } = fixture.databaseRoles;
      // The gateway's runtime role with the old sweep setting on: no other way across tenants.
      expect(
        (await as(runtime, { 'app.retention_sweep': 'on' }, `delete from tasks returning id`)).rows,
      ).toEqual([]);
      // The sweeper, even with the tenant set, deletes the finished task only.
      const deleted = await as(
        sweeper!,
        { 'app.tenant_id': tenantId },
        `delete from tasks where tenant_id = '${tenantId}' returning id`,
      );
      expect(deleted.rows.map((row) => row.id)).toEqual([stopped]);
      for (const statement of [
        `update tenant_retention set task_history_days = 7 where tenant_id = '${tenantId}'`,
        `select * from tenant_controls`,
        `select title from tasks`,
      ])
        await expect(as(sweeper!, {}, statement), statement).rejects.toThrow(/permission denied/);
      expect(await remaining(tenantId)).toEqual([running]);
      expect((await retentionOf(owner.browser)).body.taskHistoryDays).toBe(30);
    });

    it('keeps everything again once the tenant sets no limit', async () => {
      const owner = await fixture.signIn(person('relenting'));
      const old = await startTask(owner, 'Old');
      await backdate(old, 100);
      expect((await save(owner.browser, { taskHistoryDays: 30 })).status).toBe(200);
      expect((await save(owner.browser, { taskHistoryDays: null })).status).toBe(200);
      expect(await fixture.gateway.app.get(ApplyRetention).execute()).toEqual({
        tenants: 0,
        deletedTasks: 0,
      });
      expect(await remaining(owner.session.tenant!.id)).toEqual([old]);
    });
  });
});
