import { randomUUID } from 'node:crypto';
import { generateSigningKey } from '@heroagent/crypto';
import { ContractError, type CapabilityClaims } from '@heroagent/contracts';
import { createDatabase, sql } from '@heroagent/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capabilities } from '../src/tasks/capabilities.js';
import { CapabilityGate } from '../src/tasks/capability-gate.js';
import { leavesTheApi, startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { person } from './support/people.js';

describe('tasks and capabilities', () => {
  let fixture: GatewayFixture;
  let gate: CapabilityGate;

  async function refusal(token: unknown): Promise<string> {
    try {
      await gate.admit(token, { action: 'gmail.messages.search' });
    } catch (error) {
      if (error instanceof ContractError) return error.code;
      throw error;
    }
    return 'ADMITTED';
  }

  /** Rows in the gateway's audit outbox, every tenant's (read as the database's superuser). */
  async function outboxRows(): Promise<number> {
    const admin = createDatabase<unknown>({
      connectionString: fixture.database.adminUrl,
      applicationName: 'test-outbox-count',
      maxConnections: 1,
    });
    try {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from gateway.audit_outbox
      `.execute(admin);
      return rows[0]!.n;
    } finally {
      await admin.destroy();
    }
  }

  /** Someone signed in, with a connected Google account and a running task. */
  async function withTask(actions = ['gmail.messages.search', 'gmail.messages.send']) {
    const signed = await fixture.signIn(person('tasker'));
    fixture.provider.nextUser(person('tasker-acct'));
    await signed.browser.follow(
      `${fixture.origin}/v1/connections/google/start?scopes=gmail.read,gmail.send`,
      leavesTheApi(fixture.origin),
    );
    const connection = [...fixture.vault.connections.values()].find(
      (c) => c.userId === signed.session.user.id,
    )!;
    const response = await fixture.call(signed.browser, 'POST', '/v1/tasks', {
      title: 'Answer the vendors',
      actions,
      connectionId: connection.id,
      limits: { recipientDomains: ['corp.example'], maxActions: 20 },
      ttlMinutes: 30,
    });
    expect(response.status).toBe(201);
    const started = (await response.json()) as {
      task: { id: string; status: string; expiresAt: string };
      capability: string;
    };
    return { ...signed, connection, ...started };
  }

  beforeAll(async () => {
    fixture = await startGatewayFixture();
    gate = fixture.gateway.app.get(CapabilityGate);
  });
  afterAll(() => fixture?.close());

  it('starts a task: the capability names tenant, person, task, actions, account and limits', async () => {
    const { session, connection, task, capability } = await withTask();
    expect(task.status).toBe('running');
    const claims: CapabilityClaims = await gate.admit(capability, {
      action: 'gmail.messages.search',
    });
    expect(claims).toMatchObject({
      v: 1,
      tenantId: session.tenant!.id,
      userId: session.user.id,
      taskId: task.id,
      actions: ['gmail.messages.search', 'gmail.messages.send'],
      connectionId: connection.id,
      limits: { recipientDomains: ['corp.example'], maxActions: 20 },
      kid: fixture.gatewaySigning.kid,
      expiresAt: task.expiresAt,
    });
    const lifetime = Date.parse(claims.expiresAt) - Date.parse(claims.issuedAt);
    expect(lifetime).toBe(30 * 60_000);
  });

  it('refuses unknown actions and an account that is not the person’s', async () => {
    const { browser } = await fixture.signIn(person('other'));
    const unknown = await fixture.call(browser, 'POST', '/v1/tasks', {
      title: 'x',
      actions: ['gmail.messages.delete'],
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ code: 'ACTION_UNKNOWN' });
    const someoneElses = [...fixture.vault.connections.values()][0]!;
    const foreign = await fixture.call(browser, 'POST', '/v1/tasks', {
      title: 'x',
      actions: ['gmail.messages.search'],
      connectionId: someoneElses.id,
    });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
  });

  it('refuses no, malformed, tampered or foreign-signed capabilities, recording those that name a tenant', async () => {
    const { session, capability } = await withTask();
    for (const token of [undefined, '', 'abc', 'a.b.c', `${capability}x`]) {
      expect(await refusal(token)).toBe('CAPABILITY_INVALID');
    }
    // Widen the actions in the claims, keep the signature: refused.
    const [encoded, sig] = capability.split('.');
    const claims = JSON.parse(
      Buffer.from(encoded!, 'base64url').toString('utf8'),
    ) as CapabilityClaims;
    const widened = { ...claims, actions: [...claims.actions, 'purchase.create'] };
    const tampered = `${Buffer.from(JSON.stringify(widened)).toString('base64url')}.${sig}`;
    expect(await refusal(tampered)).toBe('CAPABILITY_INVALID');
    // Signed by a key that is not the gateway's: refused.
    const forger = new Capabilities(generateSigningKey());
    const forged = forger.mint({ ...claims, expiresAt: claims.expiresAt });
    expect(await refusal(forged.token)).toBe('CAPABILITY_INVALID');

    const refused = async () =>
      (await fixture.auditEvents()).filter(
        (e) => e.event.tenantId === session.tenant!.id && e.event.name === 'capability.refused',
      );
    // The bad signature, the widened claims and the forged key: the first is on record at once,
    // the two after it in one record of repeats when the minute's tally is closed.
    const first = await refused();
    expect(first).toHaveLength(1);
    expect(first[0]!.event).toMatchObject({
      outcome: 'denied',
      taskId: claims.taskId,
      data: { code: 'CAPABILITY_INVALID', attempts: 1 },
    });
    await fixture.gateway.app.get(CapabilityGate).flushRefusals();
    const all = await refused();
    expect(all).toHaveLength(2);
    expect(all[1]!.event.data).toMatchObject({ code: 'CAPABILITY_INVALID', attempts: 2 });
  });

  it('records a flood of forged capabilities in aggregate, never a row per attempt', async () => {
    const { session, capability } = await withTask();
    const [encoded] = capability.split('.');
    const claims = JSON.parse(
      Buffer.from(encoded!, 'base64url').toString('utf8'),
    ) as CapabilityClaims;
    const forger = new Capabilities(generateSigningKey());
    await gate.flushRefusals();
    const outboxBefore = await outboxRows();
    const codes = await Promise.all(
      Array.from({ length: 200 }, () => refusal(forger.mint({ ...claims }).token)),
    );
    expect(new Set(codes)).toEqual(new Set(['CAPABILITY_INVALID']));
    // Forged tokens naming no tenant, or one that does not exist, write nothing at all.
    for (let i = 0; i < 50; i += 1) {
      await refusal(forger.mint({ ...claims, tenantId: randomUUID() }).token);
    }
    await gate.flushRefusals();
    expect((await outboxRows()) - outboxBefore).toBe(2);
    const events = (await fixture.auditEvents()).filter(
      (e) => e.event.tenantId === session.tenant!.id && e.event.name === 'capability.refused',
    );
    expect(events.map((e) => e.event.data.attempts)).toEqual([1, 199]);
  });

  it('refuses an expired capability, and one for a task of another tenant', async () => {
    const { session, task, capability } = await withTask();
    const genuine = fixture.gateway.app.get(Capabilities);
    const [encoded] = capability.split('.');
    const claims = JSON.parse(
      Buffer.from(encoded!, 'base64url').toString('utf8'),
    ) as CapabilityClaims;
    const expired = genuine.mint({
      ...claims,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(await refusal(expired.token)).toBe('CAPABILITY_EXPIRED');
    // Genuinely signed, but the task is another tenant's: there is no such task here.
    const other = await fixture.signIn(person('elsewhere'));
    const crossed = genuine.mint({ ...claims, tenantId: other.session.tenant!.id });
    expect(await refusal(crossed.token)).toBe('CAPABILITY_REVOKED');
    // The task's own capability, reissued (a new id), is not the task's capability.
    const reissued = genuine.mint({ ...claims });
    expect(await refusal(reissued.token)).toBe('CAPABILITY_REVOKED');
    const names = (await fixture.auditEvents())
      .filter((e) => e.event.taskId === task.id)
      .map(
        (e) =>
          `${e.event.tenantId === session.tenant!.id ? 'own' : 'other'}:${e.event.name}:${typeof e.event.data.code === 'string' ? e.event.data.code : ''}`,
      );
    expect(names).toEqual(
      expect.arrayContaining([
        'own:task.started:',
        'own:capability.refused:CAPABILITY_EXPIRED',
        'other:capability.refused:CAPABILITY_REVOKED',
        'own:capability.refused:CAPABILITY_REVOKED',
      ]),
    );
  });

  it('stops a task at once: its capability is revoked, and the stop is recorded', async () => {
    const { browser, task, capability } = await withTask();
    expect(await refusal(capability)).toBe('ADMITTED');
    const stopped = await fixture.call(browser, 'POST', `/v1/tasks/${task.id}/stop`, {
      reason: 'changed my mind',
    });
    expect(stopped.status).toBe(204);
    expect(await refusal(capability)).toBe('CAPABILITY_REVOKED');
    const again = await fixture.call(browser, 'POST', `/v1/tasks/${task.id}/stop`, {});
    expect(again.status).toBe(404);
    const listed = (await (await fixture.call(browser, 'GET', '/v1/tasks')).json()) as {
      tasks: { id: string; status: string; stopReason: string }[];
    };
    expect(listed.tasks.find((t) => t.id === task.id)).toMatchObject({
      status: 'stopped',
      stopReason: 'changed my mind',
    });
  });

  it('pauses every agent of a tenant at once, and resumes them', async () => {
    const { browser, session, capability } = await withTask();
    expect((await fixture.call(browser, 'POST', '/v1/tenant/agents/pause')).status).toBe(204);
    expect(await refusal(capability)).toBe('TENANT_PAUSED');
    const refusedStart = await fixture.call(browser, 'POST', '/v1/tasks', {
      title: 'x',
      actions: ['gmail.messages.search'],
    });
    expect(refusedStart.status).toBe(423);
    expect(await (await fixture.call(browser, 'GET', '/v1/tenant/agents')).json()).toEqual({
      paused: true,
    });
    expect((await fixture.call(browser, 'POST', '/v1/tenant/agents/resume')).status).toBe(204);
    expect(await refusal(capability)).toBe('ADMITTED');
    const names = (await fixture.auditEvents())
      .filter((e) => e.event.tenantId === session.tenant!.id)
      .map((e) => e.event.name);
    expect(names).toEqual(expect.arrayContaining(['agents.paused', 'agents.resumed']));
  });

  it('shows a member their own tasks; an owner all; a member cannot stop another’s', async () => {
    const owner = await withTask();
    const email = person('member').email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role: 'member' })
    ).json()) as { token: string };
    const member = await fixture.signIn(
      { sub: `sub-${email}`, email, name: 'M' },
      { invitation: token },
    );
    const mine = (await (await fixture.call(member.browser, 'GET', '/v1/tasks')).json()) as {
      tasks: object[];
    };
    expect(mine.tasks).toEqual([]);
    expect((await fixture.call(member.browser, 'GET', '/v1/tasks?userId=all')).status).toBe(403);
    const refused = await fixture.call(
      member.browser,
      'POST',
      `/v1/tasks/${owner.task.id}/stop`,
      {},
    );
    expect(refused.status).toBe(404);
    const all = (await (
      await fixture.call(owner.browser, 'GET', '/v1/tasks?userId=all')
    ).json()) as {
      tasks: { id: string }[];
    };
    expect(all.tasks.map((t) => t.id)).toContain(owner.task.id);
  });
});
