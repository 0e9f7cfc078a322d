import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { executeAction, type RpcResponse } from '@heroagent/contracts';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { TestBrowser } from '@heroagent/doubles';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import { ActionExecutor } from '../src/actions/action-executor.js';
import { ApprovalsService } from '../src/approvals/approvals.service.js';
import { ApplyRetention } from '../src/retention/apply-retention.js';
import { Housekeeping } from '../src/housekeeping.js';
import { AgentDouble } from './support/agent-double.js';
import { person } from './support/people.js';
import { REQUEST } from './support/tasks-in-words.js';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { eventsAbout as eventNames, ownerWithTask as ownerTask } from './support/replica-tasks.js';

const SENDS_ALLOWED = `@id("sends-without-approval")
permit (principal, action == HeroAgent::Action::"gmail.messages.send", resource);`;

/**
 * Two gateway replicas on one Postgres and one NATS, behind a round-robin load balancer: what one
 * replica knows, the other must know too.
 */
describe('two gateway replicas behind a load balancer', { timeout: 60_000 }, () => {
  let fixture: GatewayFixture;
  let admin: Kysely<unknown>;
  let agent: ContractClient;
  let agentService: AgentDouble;

  beforeAll(async () => {
    fixture = await startGatewayFixture({ AGENT_TASKS_PER_TENANT: '3' }, { replicas: 2 });
    agentService = await AgentDouble.start(fixture.nats.url);
    admin = createDatabase<unknown>({
      connectionString: fixture.database.adminUrl,
      schema: 'gateway',
      applicationName: 'gateway-replicas-test-admin',
    });
    agent = ContractClient.create(natsEnvSchema.parse({ NATS_URL: fixture.nats.url }), 'agent');
    await agent.connect();
  });
  afterAll(async () => {
    await agentService?.close();
    await agent?.close();
    await admin?.destroy();
    await fixture?.close();
  });

  const ownerWithTask = (actions: string[], scopes: string, policy?: string) =>
    ownerTask(fixture, actions, scopes, policy);
  const eventsAbout = (ids: readonly string[]) => eventNames(fixture, ids);

  it('releases each due send once when both replicas release at the same moment', async () => {
    const { capability } = await ownerWithTask(
      ['gmail.messages.send'],
      'gmail.read,gmail.send',
      SENDS_ALLOWED,
    );
    const subjects = Array.from({ length: 10 }, () => `Due ${randomUUID()}`);
    const held = await Promise.all(
      subjects.map(async (subject) => {
        const answer: RpcResponse<typeof executeAction> = await agent.request(executeAction, {
          capability,
          action: 'gmail.messages.send',
          params: { to: ['ada@corp.example'], subject, body: 'Hi Ada' },
          idempotencyKey: `key-${randomUUID()}`,
          rationale: 'You asked me to write to Ada.',
        });
        expect(answer.status).toBe('completed');
        return answer.actionId;
      }),
    );
    const sendsBefore = fixture.gmail.callCount('gmail.users.messages.send');
    // Past the undo window, as every replica's timer will see it; twice each, all at once.
    const due = new Date(Date.now() + 10 * 60_000);
    const released = await Promise.all(
      [...fixture.replicas, ...fixture.replicas].map((replica) =>
        replica.app.get(ActionExecutor).releaseDue(due),
      ),
    );
    expect(released.reduce((sum, count) => sum + count, 0)).toBe(subjects.length);
    expect(fixture.gmail.callCount('gmail.users.messages.send') - sendsBefore).toBe(
      subjects.length,
    );
    const sent = fixture.gmail.sent.map((message) => message.subject);
    for (const subject of subjects) expect(sent.filter((s) => s === subject)).toHaveLength(1);
    for (const [id, names] of await eventsAbout(held)) {
      expect(
        names.filter((name) => name === 'action.executed'),
        id,
      ).toHaveLength(1);
    }
    // Each was run by the replica that claimed it, as its executor lease names it.
    const leases = fixture.replicas.map((replica) => replica.lease.id);
    const { rows } = await sql<{ executor: string | null }>`
      select executor from actions where id = any(${held}::uuid[])`.execute(admin);
    expect(rows).toHaveLength(held.length);
    for (const row of rows) expect(leases).toContain(row.executor);
  });

  it('expires each overdue approval once, with one audit event, when both replicas expire at once', async () => {
    const { capability } = await ownerWithTask(['gmail.drafts.create'], 'gmail.read,gmail.modify');
    const approvals = await Promise.all(
      Array.from({ length: 8 }, async (_, index) => {
        const answer: RpcResponse<typeof executeAction> = await agent.request(executeAction, {
          capability,
          action: 'gmail.drafts.create',
          params: { to: ['ada@corp.example'], subject: `Draft ${index}`, body: 'Body' },
          idempotencyKey: `key-${randomUUID()}`,
          rationale: 'The person asked me to write to Ada.',
        });
        if (answer.status !== 'pending_approval') throw new Error(`got ${answer.status}`);
        return answer.approvalId;
      }),
    );
    const later = new Date(Date.now() + 2 * 86_400_000);
    const expired = await Promise.all(
      [...fixture.replicas, ...fixture.replicas].map((replica) =>
        replica.app.get(ApprovalsService).expire(later),
      ),
    );
    expect(expired.reduce((sum, count) => sum + count, 0)).toBe(approvals.length);
    for (const [id, names] of await eventsAbout(approvals)) {
      expect(
        names.filter((name) => name === 'approval.expired'),
        id,
      ).toHaveLength(1);
    }
  });

  it('holds a route’s rate limit across both: exactly the limit of 2N requests gets through', async () => {
    // GET /v1/me/export allows 6 a minute per address; the throttle runs before sign-in is checked.
    const browser = new TestBrowser();
    const before = [...fixture.proxy!.served];
    const statuses: number[] = [];
    for (let index = 0; index < 12; index += 1) {
      const response = await browser.fetch(`${fixture.origin}/v1/me/export`);
      statuses.push(response.status);
      await response.body?.cancel();
    }
    // Both replicas answered half of them.
    expect(fixture.proxy!.served.map((count, index) => count - before[index]!)).toEqual([6, 6]);
    expect(statuses.filter((status) => status !== 429)).toHaveLength(6);
    expect(statuses.filter((status) => status === 429)).toHaveLength(6);
    // Another address has its own budget, on either replica.
    const other = await new TestBrowser().fetch(`${fixture.origin}/v1/me/export`);
    expect(other.status).toBe(401);
  });

  it('opens a new window once the last one (and its block) ended; housekeeping purges ended ones', async () => {
    const browser = new TestBrowser();
    const get = async () => {
      const response = await browser.fetch(`${fixture.origin}/v1/me/export`);
      await response.body?.cancel();
      return response;
    };
    for (let index = 0; index < 6; index += 1) expect((await get()).status).toBe(401);
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await get()).status).toBe(429);
    // The minute passes (moved, rather than waited for).
    await sql`update http_rate_limits set window_ends_at = now() - interval '1 second'`.execute(
      admin,
    );
    expect((await get()).status).toBe(401);
    await sql`update http_rate_limits set window_ends_at = now() - interval '1 second'`.execute(
      admin,
    );
    await fixture.replicas[1]!.app.get(Housekeeping).purge();
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from http_rate_limits`.execute(admin);
    expect(rows[0]!.n).toBe(0);
  });

  it('holds the limit under simultaneous requests to both replicas', async () => {
    const browser = new TestBrowser();
    const statuses = await Promise.all(
      Array.from({ length: 24 }, async () => {
        const response = await browser.fetch(`${fixture.origin}/v1/me/export`);
        await response.body?.cancel();
        return response.status;
      }),
    );
    expect(statuses.filter((status) => status !== 429)).toHaveLength(6);
  });

  it('signs in when the callback reaches the other replica than the start, and keeps the session on both', async () => {
    const proxy = fixture.proxy!;
    const from = proxy.handed.length;
    const { browser, session } = await fixture.signIn(person('ada'));
    const handed = proxy.handed.slice(from);
    const start = handed.find((entry) => entry.path.startsWith('/v1/auth/google/start'));
    const callback = handed.find((entry) => entry.path.startsWith('/v1/auth/google/callback'));
    expect(start).toBeDefined();
    expect(callback).toBeDefined();
    expect(callback!.replica).not.toBe(start!.replica);
    // A write with the CSRF token on one replica, read back on the other.
    const created = await fixture.call(browser, 'POST', '/v1/tenants', { name: 'Replicated' });
    expect(created.status).toBe(201);
    const seen = await Promise.all([fixture.session(browser), fixture.session(browser)]);
    for (const view of seen) {
      expect(view.user.id).toBe(session.user.id);
      expect(view.tenant?.name).toBe('Replicated');
    }
  });

  it('fails each action a crash left running once, and applies retention once, when both replicas sweep at once', async () => {
    const { capability } = await ownerWithTask(
      ['gmail.messages.send'],
      'gmail.read,gmail.send',
      SENDS_ALLOWED,
    );
    const stuck = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const answer: RpcResponse<typeof executeAction> = await agent.request(executeAction, {
          capability,
          action: 'gmail.messages.send',
          params: { to: ['ada@corp.example'], subject: `Stuck ${randomUUID()}`, body: 'Hi' },
          idempotencyKey: `key-${randomUUID()}`,
          rationale: 'You asked me to write to Ada.',
        });
        return answer.actionId;
      }),
    );
    // As a gateway that died mid-call leaves them.
    await sql`update actions set status = 'executing', updated_at = now() - interval '1 hour'
      where id = any(${stuck}::uuid[])`.execute(admin);
    const failed = await Promise.all(
      [...fixture.replicas, ...fixture.replicas].map((replica) =>
        replica.app.get(ActionExecutor).failStale(),
      ),
    );
    expect(failed.reduce((sum, count) => sum + count, 0)).toBe(stuck.length);
    for (const [id, names] of await eventsAbout(stuck)) {
      expect(
        names.filter((name) => name === 'action.outcome_unknown'),
        id,
      ).toHaveLength(1);
    }

    // Six finished tasks forty days old, under a retention of thirty days.
    const { browser, session } = await fixture.signIn(person('keeper'));
    const tenantId = session.tenant!.id;
    for (let index = 0; index < 6; index += 1) {
      const started = await fixture.call(browser, 'POST', '/v1/tasks', {
        title: `Old ${index}`,
        actions: ['gmail.messages.search'],
      });
      const { task } = (await started.json()) as { task: { id: string } };
      expect((await fixture.call(browser, 'POST', `/v1/tasks/${task.id}/stop`, {})).status).toBe(
        204,
      );
    }
    await sql`update tasks set created_at = now() - interval '40 days'
      where tenant_id = ${tenantId}`.execute(admin);
    const saved = await fixture.call(browser, 'POST', '/v1/tenant/retention', {
      taskHistoryDays: 30,
    });
    expect(saved.status).toBe(200);
    const runs = await Promise.all(
      [...fixture.replicas, ...fixture.replicas].map((replica) =>
        replica.app.get(ApplyRetention).execute(),
      ),
    );
    const deleted = runs.reduce((sum, run) => sum + run.deletedTasks, 0);
    expect(deleted).toBe(6);
    const applied = (await fixture.auditEvents())
      .map(({ event }) => event)
      .filter((event) => event.tenantId === tenantId && event.name === 'tenant.retention_applied');
    // Each sweep records what it deleted itself: the records add up to what was deleted.
    expect(applied.reduce((sum, event) => sum + Number(event.data.deletedTasks), 0)).toBe(6);
  });

  it('lets the agent work on at most the tenant’s share of tasks at once, however the starts are spread', async () => {
    const { browser, session } = await fixture.signIn(person('busy'));
    const start = () =>
      fixture.call(browser, 'POST', '/v1/tasks', {
        title: 'Meet Bob',
        actions: ['calendar.freebusy', 'calendar.events.create'],
        request: REQUEST,
      });
    const startsBefore = agentService.starts.length;
    // Six at once through the load balancer: three on each replica.
    const answers = await Promise.all(Array.from({ length: 6 }, start));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(3);
    for (const answer of refused)
      expect(await answer.json()).toMatchObject({ code: 'RATE_LIMITED' });
    // Nothing of a refused start was written or handed to the agent.
    expect(agentService.starts.length - startsBefore).toBe(3);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from tasks where tenant_id = ${session.tenant!.id}`.execute(admin);
    expect(rows[0]!.n).toBe(3);
    // Another tenant's tasks are not held up by this one's.
    const other = await fixture.signIn(person('other'));
    const theirs = await fixture.call(other.browser, 'POST', '/v1/tasks', {
      title: 'Meet Bob',
      actions: ['calendar.freebusy', 'calendar.events.create'],
      request: REQUEST,
    });
    expect(theirs.status).toBe(201);
    // A task stopped frees its place, on either replica.
    const [first] = answers.filter((answer) => answer.status === 201);
    const { task } = (await first!.json()) as { task: { id: string } };
    expect((await fixture.call(browser, 'POST', `/v1/tasks/${task.id}/stop`, {})).status).toBe(204);
    expect((await start()).status).toBe(201);
    expect((await start()).status).toBe(429);
  });
});
