import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractError, type TaskEvent } from '@heroagent/contracts';
import { createDatabase, sql } from '@heroagent/db';
import type { CapabilityGate } from '../src/tasks/capability-gate.js';
import type { AgentDouble } from './support/agent-double.js';
import type { GatewayFixture } from './support/fixture.js';
import { codeOf, person } from './support/people.js';
import {
  claimsOf,
  MODEL,
  now,
  REQUEST,
  startAgentTasksFixture,
  type TasksInWords,
  type TaskView,
} from './support/tasks-in-words.js';

/**
 * Tasks the person describes in words: the gateway hands them to the agent service (a double on
 * the test's NATS), stops those the agent cannot take, tells the agent when a task is stopped,
 * and shows a task's timeline only to those who may see it. (The reports themselves:
 * task-reports.test.ts.)
 */
describe('tasks handed to the agent', () => {
  let fixture: GatewayFixture;
  let agent: AgentDouble;
  let gate: CapabilityGate;
  let words: TasksInWords;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ fixture, agent, gate, words, close } = await startAgentTasksFixture());
  });
  afterAll(async () => {
    await close?.();
  });

  it('hands a task in words to the agent: the text, a capability that verifies, the tenant’s settings', async () => {
    const { session, task, capability } = await words.someoneWithTask();
    expect(task).toMatchObject({ status: 'running', request: REQUEST, agentStatus: 'running' });
    const sent = agent.starts.at(-1)!;
    expect(sent).toEqual({
      tenantId: session.tenant!.id,
      userId: session.user.id,
      taskId: task.id,
      text: REQUEST,
      capability,
      models: { allowCloud: false, providerId: null, cloudMayReadBodies: false },
      timeZone: 'Europe/Paris',
    });
    const claims = await gate.admit(sent.capability, { action: 'calendar.freebusy' });
    expect(claims).toMatchObject({ taskId: task.id, userId: session.user.id });
  });

  it('drives a task without a request as before: nothing is sent to the agent', async () => {
    const { browser } = await fixture.signIn(person('api'));
    const before = agent.starts.length;
    const response = await fixture.call(browser, 'POST', '/v1/tasks', {
      title: 'Scripted',
      actions: ['calendar.freebusy'],
    });
    expect(response.status).toBe(201);
    const { task } = (await response.json()) as { task: TaskView };
    expect(task).toMatchObject({ request: null, agentStatus: null, summary: null });
    expect(agent.starts.length).toBe(before);
    // Stopping it tells no agent either.
    await fixture.call(browser, 'POST', `/v1/tasks/${task.id}/stop`, {});
    expect(await agent.stopOf(task.id, 300)).toBeUndefined();
  });

  it('stops the task and answers with the code when the agent refuses it or is not there', async () => {
    const { browser, session } = await fixture.signIn(person('refused'));
    agent.onStart = () => {
      throw new ContractError('MODEL_UNAVAILABLE', 'no model the tenant allows is reachable');
    };
    try {
      const refused = await words.start(browser);
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    } finally {
      agent.onStart = () => ({ accepted: true, model: MODEL });
    }
    const [first] = await words.list(browser);
    expect(first).toMatchObject({ status: 'stopped', stoppedBy: null, request: REQUEST });
    expect(first!.stopReason).toContain('MODEL_UNAVAILABLE');
    expect(
      await codeOf(gate.admit(agent.starts.at(-1)!.capability, { action: 'calendar.freebusy' })),
    ).toBe('CAPABILITY_REVOKED');

    agent.down = true;
    try {
      const absent = await words.start(browser, { title: 'Nobody home' });
      expect(absent.status).toBe(503);
      expect(await absent.json()).toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      agent.down = false;
    }
    const [second] = await words.list(browser);
    expect(second).toMatchObject({ status: 'stopped', stoppedBy: null });
    expect(second!.stopReason).toContain('UNAVAILABLE');

    const stops = (await words.auditOf(session.tenant!.id)).filter(
      (e) => e.name === 'task.stopped',
    );
    expect(stops.map((e) => e.data.code).sort()).toEqual(['MODEL_UNAVAILABLE', 'UNAVAILABLE']);
    for (const stop of stops) expect(stop.actor).toEqual({ type: 'service', id: 'gateway' });
  });

  it('takes reports after a stop and answers running:false; the agent is told of the stop', async () => {
    const { browser, task, capability } = await words.someoneWithTask();
    expect(
      await agent.report(capability, [{ seq: 1, at: now(), kind: 'started', model: MODEL }]),
    ).toEqual({ recorded: 1, running: true });
    const stopped = await fixture.call(browser, 'POST', `/v1/tasks/${task.id}/stop`, {
      reason: 'Not needed any more',
    });
    expect(stopped.status).toBe(204);
    expect(await agent.stopOf(task.id)).toEqual({
      tenantId: claimsOf(capability).tenantId,
      taskId: task.id,
      reason: 'Not needed any more',
    });
    const last = await agent.report(capability, [
      { seq: 2, at: now(), kind: 'stopped', code: 'STOPPED', message: 'Told to stop.' },
    ]);
    expect(last).toEqual({ recorded: 1, running: false });
    expect((await words.timeline(browser, task.id)).body.agentStatus).toBe('stopped');
    const recorded = (await words.auditOf(claimsOf(capability).tenantId)).find(
      (e) => e.name === 'task.agent_stopped' && e.taskId === task.id,
    );
    expect(recorded).toMatchObject({
      actor: { type: 'agent', id: task.id },
      data: { code: 'STOPPED' },
    });

    // Paused agents are told to stop on their next report too.
    const paused = await words.start(browser, { title: 'Paused' });
    const other = (await paused.json()) as { capability: string };
    expect((await fixture.call(browser, 'POST', '/v1/tenant/agents/pause')).status).toBe(204);
    try {
      expect(
        await agent.report(other.capability, [{ seq: 1, at: now(), kind: 'note', text: 'Hi' }]),
      ).toEqual({ recorded: 1, running: false });
    } finally {
      await fixture.call(browser, 'POST', '/v1/tenant/agents/resume');
    }
  });

  it('shows a task’s timeline to its owner and the tenant’s overseers, to no other member', async () => {
    const owner = await words.someoneWithTask();
    await agent.report(owner.capability, [{ seq: 1, at: now(), kind: 'note', text: 'Working.' }]);
    const join = async (role: 'member' | 'auditor') => {
      const email = person(role).email;
      const { token } = (await (
        await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role })
      ).json()) as { token: string };
      return fixture.signIn({ sub: `sub-${email}`, email, name: role }, { invitation: token });
    };
    const member = await join('member');
    const auditor = await join('auditor');
    const hidden = await words.timeline(member.browser, owner.task.id);
    expect(hidden).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    const shown = await words.timeline(auditor.browser, owner.task.id);
    expect(shown.status).toBe(200);
    expect(shown.body.events).toHaveLength(1);
    expect((await words.timeline(owner.browser, owner.task.id)).status).toBe(200);
    const unknown = await words.timeline(owner.browser, randomUUID());
    expect(unknown.status).toBe(404);
  });
  it('closing a tenant, or an account, takes its timelines (and a tenant its model settings) along', async () => {
    const admin = createDatabase<unknown>({
      connectionString: fixture.database.adminUrl,
      schema: 'gateway',
      applicationName: 'gateway-test-admin',
    });
    const rows = async (table: string, column: string, id: string) =>
      Number(
        (
          await sql<{
            count: string;
          }>`select count(*) as count from ${sql.table(table)} where ${sql.ref(column)} = ${id}`.execute(
            admin,
          )
        ).rows[0]!.count,
      );
    const note: TaskEvent = { seq: 1, at: now(), kind: 'note', text: 'Working on it.' };
    const local = { allowCloud: false, providerId: 'local', cloudMayReadBodies: false };
    try {
      const closing = await words.someoneWithTask();
      const tenantId = closing.session.tenant!.id;
      await agent.report(closing.capability, [note]);
      const saved = await fixture.call(closing.browser, 'POST', '/v1/tenant/agent-settings', local);
      expect(saved.status).toBe(200);
      expect(await rows('task_events', 'tenant_id', tenantId)).toBe(1);
      expect(await rows('tenant_agent_settings', 'tenant_id', tenantId)).toBe(1);
      const closed = await fixture.call(closing.browser, 'POST', '/v1/tenant/close', {
        confirm: closing.session.tenant!.name,
      });
      expect(closed.status).toBe(204);
      expect(await rows('task_events', 'tenant_id', tenantId)).toBe(0);
      expect(await rows('tenant_agent_settings', 'tenant_id', tenantId)).toBe(0);

      // A member leaves for good: their tasks' timelines go; the tenant's and others' stay.
      const owner = await words.someoneWithTask();
      await agent.report(owner.capability, [note]);
      await fixture.call(owner.browser, 'POST', '/v1/tenant/agent-settings', local);
      const email = person('leaver').email;
      const { token } = (await (
        await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', {
          email,
          role: 'member',
        })
      ).json()) as { token: string };
      const leaver = await fixture.signIn(
        { sub: `sub-${email}`, email, name: 'Leaver' },
        { invitation: token },
      );
      const theirs = (await (await words.start(leaver.browser)).json()) as {
        task: TaskView;
        capability: string;
      };
      await agent.report(theirs.capability, [note]);
      expect(await rows('task_events', 'task_id', theirs.task.id)).toBe(1);
      const gone = await fixture.call(leaver.browser, 'POST', '/v1/me/close', { confirm: email });
      expect(gone.status).toBe(204);
      expect(await rows('task_events', 'task_id', theirs.task.id)).toBe(0);
      expect(await rows('task_events', 'task_id', owner.task.id)).toBe(1);
      expect(await rows('tenant_agent_settings', 'tenant_id', owner.session.tenant!.id)).toBe(1);
    } finally {
      await admin.destroy();
    }
  });
});
