import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeAction, type RpcResponse } from '@heroagent/contracts';
import type { TestBrowser } from '@heroagent/doubles';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import { ActionExecutor } from '../src/actions/action-executor.js';
import { CapabilityGate } from '../src/tasks/capability-gate.js';
import { leavesTheApi, startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { codeOf, person } from './support/people.js';

// Sends leave after the undo window without asking; a tenant rate limit of three an hour.
const SENDS_ALLOWED = `@id("sends-without-approval")
permit (principal, action == HeroAgent::Action::"gmail.messages.send", resource);
@id("reads")
permit (principal, action in HeroAgent::Action::"read", resource);`;
const HOURLY_CAP = `${SENDS_ALLOWED}
@id("hourly-cap") @reason("At most three actions an hour.")
forbid (principal, action, resource) when { context.actionsLastHour >= 3 };`;
const NO_SENDS = `@id("no-sends") @reason("No mail leaves this tenant.")
forbid (principal, action == HeroAgent::Action::"gmail.messages.send", resource);`;

const LATER = () => new Date(Date.now() + 10 * 60_000);

/**
 * Admission as one atomic decision per person: every action under way counts (held sends and
 * approvals included), concurrent requests cannot overshoot, and what is held is admitted again
 * before it goes — or cancelled, at once, by a stop, a pause or a removal.
 */
describe('atomic admission: limits, held sends and what cancels them', () => {
  let fixture: GatewayFixture;
  let agent: ContractClient;
  let executor: ActionExecutor;
  let owner: TestBrowser;
  let tenantId: string;
  let connectionId: string;
  let policyVersion = 0;

  const setPolicy = async (text: string) => {
    const saved = await fixture.call(owner, 'POST', '/v1/tenant/policy', {
      text,
      expectedVersion: policyVersion,
    });
    expect(saved.status).toBe(200);
    policyVersion += 1;
  };

  const startTask = async (
    browser: TestBrowser,
    limits: Record<string, unknown> = {},
    connection = connectionId,
  ) => {
    const response = await fixture.call(browser, 'POST', '/v1/tasks', {
      title: 'Mail',
      actions: ['gmail.messages.search', 'gmail.messages.send'],
      connectionId: connection,
      limits,
      ttlMinutes: 5,
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { task: { id: string }; capability: string };
  };

  const send = (capability: string, subject = `Hello ${randomUUID()}`) =>
    agent.request(executeAction, {
      capability,
      action: 'gmail.messages.send',
      params: { to: ['ada@corp.example'], subject, body: 'Hi Ada' },
      idempotencyKey: `key-${randomUUID()}`,
      rationale: 'You asked me to write to Ada.',
    });

  const search = (capability: string) =>
    agent.request(executeAction, {
      capability,
      action: 'gmail.messages.search',
      params: { query: 'from:ada@corp.example' },
      idempotencyKey: `key-${randomUUID()}`,
      rationale: 'To find Ada’s mail.',
    });

  const held = (answer: RpcResponse<typeof executeAction>) => {
    if (answer.status !== 'completed' || !('sendsAt' in (answer.result as object))) {
      throw new Error(`expected a held send, got ${JSON.stringify(answer)}`);
    }
    return answer.actionId;
  };

  const sentSubjects = () => fixture.gmail.sent.map((message) => message.subject);

  const eventsOf = async (actionId: string) =>
    (await fixture.auditEvents())
      .filter((e) => e.event.data.actionId === actionId)
      .map((e) => ({ name: e.event.name, data: e.event.data }));

  const connect = async (browser: TestBrowser) => {
    const account = person('mailbox');
    fixture.provider.nextUser(account);
    await browser.follow(
      `${fixture.origin}/v1/connections/google/start?scopes=gmail.read,gmail.send`,
      leavesTheApi(fixture.origin),
    );
    return [...fixture.vault.connections.values()].find((c) => c.account === account.email)!.id;
  };

  beforeAll(async () => {
    fixture = await startGatewayFixture();
    agent = ContractClient.create(natsEnvSchema.parse({ NATS_URL: fixture.nats.url }), 'agent');
    await agent.connect();
    executor = fixture.gateway.app.get(ActionExecutor);
    const signedIn = await fixture.signIn(person('owner'));
    owner = signedIn.browser;
    tenantId = signedIn.session.tenant!.id;
    connectionId = await connect(owner);
    await setPolicy(SENDS_ALLOWED);
  });
  afterAll(async () => {
    await agent?.close();
    await fixture?.close();
  });

  it('counts sends held in their window against the task’s maxActions', async () => {
    const { capability } = await startTask(owner, { maxActions: 2 });
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await codeOf(send(capability)));
    expect(answers).toEqual(['OK', 'OK', 'ACTION_NOT_ALLOWED', 'ACTION_NOT_ALLOWED']);
  });

  it('admits exactly the limit of simultaneous requests, never one more', async () => {
    const { capability } = await startTask(owner, { maxActions: 3 });
    const codes = await Promise.all(Array.from({ length: 12 }, () => codeOf(search(capability))));
    expect(codes.filter((code) => code === 'OK')).toHaveLength(3);
    expect(codes.filter((code) => code === 'ACTION_NOT_ALLOWED')).toHaveLength(9);
  });

  it('holds a tenant’s rate to its limit across a person’s tasks at once, held sends counted', async () => {
    const other = await fixture.signIn(person('rate'));
    const rateTenant = other.session.tenant!.id;
    expect(rateTenant).not.toBe(tenantId);
    const connection = await connect(other.browser);
    const saved = await fixture.call(other.browser, 'POST', '/v1/tenant/policy', {
      text: HOURLY_CAP,
      expectedVersion: 0,
    });
    expect(saved.status).toBe(200);
    const tasks = await Promise.all([
      startTask(other.browser, {}, connection),
      startTask(other.browser, {}, connection),
    ]);
    const codes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => codeOf(send(tasks[i % 2]!.capability))),
    );
    expect(codes.filter((code) => code === 'OK')).toHaveLength(3);
    expect(codes.filter((code) => code === 'POLICY_DENIED')).toHaveLength(7);
  });

  it('cancels a task’s held send at once when the task is stopped: it never leaves', async () => {
    const { task, capability } = await startTask(owner);
    const subject = `Stopped ${randomUUID()}`;
    const actionId = held(await send(capability, subject));
    const stopped = await fixture.call(owner, 'POST', `/v1/tasks/${task.id}/stop`, {});
    expect(stopped.status).toBe(204);
    await executor.releaseDue(LATER());
    expect(sentSubjects()).not.toContain(subject);
    expect(await eventsOf(actionId)).toContainEqual({
      name: 'action.cancelled',
      data: expect.objectContaining({ code: 'CAPABILITY_REVOKED' }) as unknown,
    });
  });

  it('cancels every held send of the tenant at once when its agents are paused; resuming revives none', async () => {
    const first = await startTask(owner);
    const second = await startTask(owner);
    const subjects = [`Paused ${randomUUID()}`, `Paused ${randomUUID()}`];
    const ids = [
      held(await send(first.capability, subjects[0])),
      held(await send(second.capability, subjects[1])),
    ];
    expect((await fixture.call(owner, 'POST', '/v1/tenant/agents/pause', {})).status).toBe(204);
    expect((await fixture.call(owner, 'POST', '/v1/tenant/agents/resume', {})).status).toBe(204);
    await executor.releaseDue(LATER());
    for (const subject of subjects) expect(sentSubjects()).not.toContain(subject);
    for (const id of ids) {
      expect(await eventsOf(id)).toContainEqual({
        name: 'action.cancelled',
        data: expect.objectContaining({ code: 'TENANT_PAUSED' }) as unknown,
      });
    }
  });

  it('cancels a held send of its task at release when the task has expired meanwhile', async () => {
    const { capability } = await startTask(owner);
    const subject = `Expired ${randomUUID()}`;
    const actionId = held(await send(capability, subject));
    // The task lives five minutes; ten minutes on, the send is due and its task is not.
    await executor.releaseDue(LATER());
    expect(sentSubjects()).not.toContain(subject);
    expect(await eventsOf(actionId)).toContainEqual({
      name: 'action.cancelled',
      data: expect.objectContaining({ code: 'CAPABILITY_EXPIRED' }) as unknown,
    });
  });

  it('admits a held send again at release: under a policy that now forbids it, it is cancelled', async () => {
    const { capability } = await startTask(owner);
    const subject = `Forbidden ${randomUUID()}`;
    const actionId = held(await send(capability, subject));
    await setPolicy(NO_SENDS);
    try {
      await executor.releaseDue(new Date(Date.now() + 45_000));
    } finally {
      await setPolicy(SENDS_ALLOWED);
    }
    expect(sentSubjects()).not.toContain(subject);
    expect(await eventsOf(actionId)).toContainEqual({
      name: 'action.cancelled',
      data: expect.objectContaining({ code: 'POLICY_DENIED' }) as unknown,
    });
  });

  it('still sends a held send that may go, once, when it is due', async () => {
    const { capability } = await startTask(owner);
    const subject = `Goes ${randomUUID()}`;
    const actionId = held(await send(capability, subject));
    await executor.releaseDue(new Date(Date.now() + 45_000));
    await executor.releaseDue(new Date(Date.now() + 45_000));
    expect(sentSubjects().filter((sent) => sent === subject)).toHaveLength(1);
    expect((await eventsOf(actionId)).map((event) => event.name)).toEqual([
      'action.requested',
      'action.scheduled',
      'action.executed',
    ]);
  });

  it('answers a retried send with its place in the outbox, and a retried cancelled one with why', async () => {
    const { task, capability } = await startTask(owner);
    const request = {
      capability,
      action: 'gmail.messages.send',
      params: { to: ['ada@corp.example'], subject: `Retried ${randomUUID()}`, body: 'Hi Ada' },
      idempotencyKey: `key-${randomUUID()}`,
      rationale: 'You asked me to write to Ada.',
    };
    const first = await agent.request(executeAction, request);
    expect(await agent.request(executeAction, request)).toEqual(first);
    await fixture.call(owner, 'POST', `/v1/tasks/${task.id}/stop`, {});
    // The capability is refused before the retry is looked up.
    expect(await codeOf(agent.request(executeAction, request))).toBe('CAPABILITY_REVOKED');
  });

  it('releases a send a person approved, once its window has passed', async () => {
    await setPolicy('');
    try {
      const { capability } = await startTask(owner);
      const subject = `Approved ${randomUUID()}`;
      const answer = await send(capability, subject);
      if (answer.status !== 'pending_approval') throw new Error(`got ${answer.status}`);
      const approved = await fixture.call(
        owner,
        'POST',
        `/v1/approvals/${answer.approvalId}/approve`,
        {},
      );
      expect(approved.status).toBe(200);
      await executor.releaseDue(new Date(Date.now() + 45_000));
      expect(sentSubjects().filter((sent) => sent === subject)).toHaveLength(1);
      expect((await eventsOf(answer.actionId)).map((event) => event.name)).toEqual([
        'action.approval_requested',
        'action.approved',
        'action.scheduled',
        'action.executed',
      ]);
    } finally {
      await setPolicy(SENDS_ALLOWED);
    }
  });

  it('cancels a person’s held sends when they are removed from the tenant', async () => {
    const email = person('member').email;
    const invited = (await (
      await fixture.call(owner, 'POST', '/v1/tenant/invitations', { email, role: 'member' })
    ).json()) as { token: string };
    const member = await fixture.signIn(
      { sub: `sub-${email}`, email, name: 'Member' },
      { invitation: invited.token },
    );
    const memberConnection = await connect(member.browser);
    const { task, capability } = await startTask(member.browser, {}, memberConnection);
    const subject = `Removed ${randomUUID()}`;
    const actionId = held(await send(capability, subject));
    const removed = await fixture.call(
      owner,
      'DELETE',
      `/v1/tenant/members/${member.session.user.id}`,
    );
    expect(removed.status).toBe(204);
    // Their task stops with the membership: an invitation back revives nothing.
    expect(await codeOf(search(capability))).toBe('CAPABILITY_REVOKED');
    const listed = (await (await fixture.call(owner, 'GET', '/v1/tasks?userId=all')).json()) as {
      tasks: { id: string; status: string; title: string }[];
    };
    const stopped = listed.tasks.find((listedTask) => listedTask.id === task.id);
    expect(stopped?.status).toBe('stopped');
    // Their key in the tenant is erased with the membership: what they asked reads as erased.
    expect(stopped?.title).toBe('[erased]');
    await executor.releaseDue(LATER());
    expect(sentSubjects()).not.toContain(subject);
    expect(await eventsOf(actionId)).toContainEqual({
      name: 'action.cancelled',
      data: expect.objectContaining({ code: 'CAPABILITY_REVOKED' }) as unknown,
    });
  });

  it('pauses the tenant even during a rush of approvals: none of them deadlocks the pause', async () => {
    const rush = await fixture.signIn(person('rush'));
    const connection = await connect(rush.browser);
    const { capability } = await startTask(rush.browser, {}, connection);
    const pending: { approvalId: string; actionId: string }[] = [];
    for (let i = 0; i < 24; i += 1) {
      const answer = await send(capability, `Rush ${i}`);
      if (answer.status !== 'pending_approval') throw new Error(`got ${answer.status}`);
      pending.push(answer);
    }
    const approvals = pending.map(({ approvalId }) =>
      fixture.call(rush.browser, 'POST', `/v1/approvals/${approvalId}/approve`, {}),
    );
    const paused = fixture.call(rush.browser, 'POST', '/v1/tenant/agents/pause', {});
    expect((await paused).status).toBe(204);
    const statuses = await Promise.all(approvals.map(async (answer) => (await answer).status));
    // Each approval either ran before the pause (200) or found it cancelled (409): never a 500.
    expect(statuses.filter((status) => status !== 200 && status !== 409)).toEqual([]);
    const state = (await (await fixture.call(rush.browser, 'GET', '/v1/tenant/agents')).json()) as {
      paused: boolean;
    };
    expect(state.paused).toBe(true);
  });

  it('records actions refused under a live capability in aggregate, not one row each', async () => {
    const flood = await fixture.signIn(person('flood'));
    const tenant = flood.session.tenant!.id;
    const connection = await connect(flood.browser);
    const { capability } = await startTask(flood.browser, {}, connection);
    const trash = () =>
      agent.request(executeAction, {
        capability,
        action: 'gmail.messages.trash',
        params: { messageId: 'm1' },
        idempotencyKey: `key-${randomUUID()}`,
        rationale: 'The mail said to.',
      });
    const codes = await Promise.all(Array.from({ length: 30 }, () => codeOf(trash())));
    expect(new Set(codes)).toEqual(new Set(['ACTION_NOT_ALLOWED']));
    await fixture.gateway.app.get(CapabilityGate).flushRefusals();
    const refused = (await fixture.auditEvents()).filter(
      (e) => e.event.tenantId === tenant && e.event.name === 'action.refused',
    );
    expect(refused.map((e) => e.event.data.attempts)).toEqual([1, 29]);
  });
});
