import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskEvent } from '@heroagent/contracts';
import { AuditRecorder } from '../src/audit/audit-recorder.js';
import { Capabilities } from '../src/tasks/capabilities.js';
import type { CapabilityGate } from '../src/tasks/capability-gate.js';
import { TaskEventsRepository } from '../src/tasks/task-events.repository.js';
import { TaskReports } from '../src/tasks/task-reports.js';
import type { AgentDouble } from './support/agent-double.js';
import type { GatewayFixture } from './support/fixture.js';
import { codeOf } from './support/people.js';
import {
  claimsOf,
  MODEL,
  now,
  startAgentTasksFixture,
  type TasksInWords,
  type TaskView,
} from './support/tasks-in-words.js';

/**
 * `gateway.tasks.report`, as the agent sends it over NATS: the timeline kept in order and once
 * per seq, the agent's status and summary, model use in audit, and every refusal storing nothing.
 */
describe('the timelines the agent reports', () => {
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

  it('keeps the reported timeline in order, after a given seq, each seq once', async () => {
    const { browser, task, capability } = await words.someoneWithTask();
    const first: TaskEvent[] = [
      { seq: 1, at: now(), kind: 'started', model: MODEL },
      { seq: 2, at: now(), kind: 'note', text: 'Looking at your calendar first.' },
      {
        seq: 3,
        at: now(),
        kind: 'action.requested',
        toolCallId: 'call-1',
        action: 'calendar.freebusy',
        rationale: 'To find when you are free.',
      },
    ];
    const second: TaskEvent[] = [
      {
        seq: 4,
        at: now(),
        kind: 'action.outcome',
        toolCallId: 'call-1',
        action: 'calendar.freebusy',
        status: 'completed',
      },
      {
        seq: 5,
        at: now(),
        kind: 'model.used',
        model: MODEL,
        calls: 3,
        saw: ['task_text', 'calendar_events'],
        redacted: ['email_addresses'],
      },
    ];
    expect(await agent.report(capability, first)).toEqual({ recorded: 3, running: true });
    expect(await agent.report(capability, second)).toEqual({ recorded: 2, running: true });
    const all = await words.timeline(browser, task.id);
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      taskId: task.id,
      agentStatus: 'running',
      events: [...first, ...second],
    });
    expect((await words.timeline(browser, task.id, '?after=2')).body.events).toEqual([
      first[2],
      ...second,
    ]);
    expect((await words.timeline(browser, task.id, '?after=2&limit=2')).body.events).toEqual([
      first[2],
      second[0],
    ]);

    // A report sent again stores nothing; a seq repeated within a report is stored once.
    const again = await agent.report(capability, [
      { seq: 2, at: now(), kind: 'note', text: 'Something else entirely.' },
      second[1]!,
    ]);
    expect(again).toEqual({ recorded: 0, running: true });
    const twice = await agent.report(capability, [
      { seq: 6, at: now(), kind: 'note', text: 'First of two.' },
      { seq: 6, at: now(), kind: 'note', text: 'Second of two.' },
    ]);
    expect(twice.recorded).toBe(1);
    const events = (await words.timeline(browser, task.id)).body.events!;
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[1]).toEqual(first[1]);
    expect(events[5]).toMatchObject({ text: 'First of two.' });
  });

  it('sets the agent’s status and summary from a closing event, and records model use in audit', async () => {
    const { browser, session, task, capability } = await words.someoneWithTask();
    const used: TaskEvent = {
      seq: 1,
      at: now(),
      kind: 'model.used',
      model: MODEL,
      calls: 2,
      saw: ['task_text'],
      redacted: ['contact_names'],
    };
    await agent.report(capability, [used]);
    await agent.report(capability, [used]);
    await agent.report(capability, [
      { seq: 2, at: now(), kind: 'finished', summary: 'Booked Tuesday 10:00 with Bob Example.' },
    ]);
    const listed = (await words.list(browser)).find((t) => t.id === task.id);
    expect(listed).toMatchObject({
      agentStatus: 'completed',
      summary: 'Booked Tuesday 10:00 with Bob Example.',
    });
    expect((await words.timeline(browser, task.id)).body.agentStatus).toBe('completed');

    const failing = await words.start(browser, { title: 'Second' });
    const other = (await failing.json()) as { task: TaskView; capability: string };
    await agent.report(other.capability, [
      {
        seq: 1,
        at: now(),
        kind: 'failed',
        code: 'MODEL_UNAVAILABLE',
        message: 'The model went away.',
      },
    ]);
    expect((await words.list(browser)).find((t) => t.id === other.task.id)).toMatchObject({
      agentStatus: 'failed',
      summary: null,
    });

    const events = await words.auditOf(session.tenant!.id);
    const modelUse = events.filter((e) => e.name === 'agent.model_used');
    expect(modelUse).toHaveLength(1);
    expect(modelUse[0]).toMatchObject({
      actor: { type: 'agent', id: task.id },
      userId: session.user.id,
      taskId: task.id,
      data: { model: MODEL, calls: 2, saw: ['task_text'], redacted: ['contact_names'] },
    });
    const finished = events.find((e) => e.name === 'task.agent_finished' && e.taskId === task.id);
    expect(finished).toMatchObject({ outcome: 'success' });
    expect(JSON.stringify(finished)).not.toContain('Bob Example');
    expect(events.find((e) => e.name === 'task.agent_failed')).toMatchObject({
      taskId: other.task.id,
      outcome: 'failure',
      data: { code: 'MODEL_UNAVAILABLE' },
    });
  });

  it('refuses an altered capability, one of no task, and malformed reports, storing nothing', async () => {
    const { browser, session, task, capability } = await words.someoneWithTask();
    const note: TaskEvent = { seq: 1, at: now(), kind: 'note', text: 'Hello' };
    const claims = claimsOf(capability);
    const widened = Buffer.from(
      JSON.stringify({ ...claims, actions: [...claims.actions, 'purchase.create'] }),
    ).toString('base64url');
    const altered = `${widened}.${capability.split('.')[1]!}`;
    expect(await codeOf(agent.report(altered, [note]))).toBe('CAPABILITY_INVALID');
    const genuine = fixture.gateway.app.get(Capabilities);
    const elsewhere = genuine.mint({ ...claims, taskId: randomUUID() });
    expect(await codeOf(agent.report(elsewhere.token, [note]))).toBe('NOT_FOUND');
    // The task's own claims, minted again: another capability, not this task's.
    expect(await codeOf(agent.report(genuine.mint({ ...claims }).token, [note]))).toBe('NOT_FOUND');

    const malformed: unknown[] = [
      { capability, events: [] },
      { events: [note] },
      { capability, events: [{ ...note, seq: 0 }] },
      { capability, events: [{ ...note, kind: 'teleported' }] },
      { capability, events: [{ ...note, extra: true }] },
      { capability, events: [{ seq: 1, at: 'yesterday', kind: 'note', text: 'x' }] },
      { capability, events: Array.from({ length: 51 }, (_, i) => ({ ...note, seq: i + 1 })) },
      { capability, events: [note], admin: true },
    ];
    for (const body of malformed) {
      const reply = await agent.reportRaw(body);
      expect(reply.err?.code, JSON.stringify(body).slice(0, 120)).toBe('INVALID_REQUEST');
    }
    expect((await words.timeline(browser, task.id)).body).toEqual({
      taskId: task.id,
      agentStatus: 'running',
      events: [],
    });
    // Repeats of one kind are recorded together when the minute's tally closes.
    await gate.flushRefusals();
    const refused = (await words.auditOf(session.tenant!.id)).filter(
      (e) => e.name === 'capability.refused' && e.data.requestedAction === 'gateway.tasks.report',
    );
    expect(refused.map((e) => e.data.code).sort()).toEqual([
      'CAPABILITY_INVALID',
      'NOT_FOUND',
      'NOT_FOUND',
    ]);
  });

  it('holds at most 2,000 events per task: a report beyond that stores nothing', async () => {
    const { browser, task, capability } = await words.someoneWithTask();
    for (let from = 1; from <= 2000; from += 50) {
      const batch = Array.from({ length: 50 }, (_, i): TaskEvent => ({
        seq: from + i,
        at: now(),
        kind: 'note',
        text: `step ${from + i}`,
      }));
      expect((await agent.report(capability, batch)).recorded).toBe(50);
    }
    const over = agent.report(capability, [
      { seq: 1, at: now(), kind: 'note', text: 'again' },
      { seq: 2001, at: now(), kind: 'finished', summary: 'Too late.' },
    ]);
    expect(await codeOf(over)).toBe('CONFLICT');
    const tail = await words.timeline(browser, task.id, '?after=1995');
    expect(tail.body.events!.map((e) => e.seq)).toEqual([1996, 1997, 1998, 1999, 2000]);
    expect(tail.body.agentStatus).toBe('running');
    // Nothing new in it: a repeated report is still answered.
    expect(
      await agent.report(capability, [{ seq: 7, at: now(), kind: 'note', text: 'again' }]),
    ).toEqual({ recorded: 0, running: true });
  }, 60_000);

  it('takes reports for an hour past the capability’s expiry, and refuses them after', async () => {
    const { browser, task, capability } = await words.someoneWithTask();
    const expiresAt = Date.parse(claimsOf(capability).expiresAt);
    const reportsAt = (at: number) =>
      new TaskReports(
        new Capabilities(fixture.gatewaySigning, () => new Date(at)),
        gate,
        fixture.gateway.app.get(TaskEventsRepository),
        fixture.gateway.app.get(AuditRecorder),
        () => new Date(at),
      );
    const late = await reportsAt(expiresAt + 30 * 60_000).report({
      capability,
      events: [{ seq: 1, at: now(), kind: 'stopped', code: 'EXPIRED', message: 'Out of time.' }],
    });
    expect(late).toEqual({ recorded: 1, running: false });
    expect(
      await codeOf(
        reportsAt(expiresAt + 61 * 60_000).report({
          capability,
          events: [{ seq: 2, at: now(), kind: 'note', text: 'Too late.' }],
        }),
      ),
    ).toBe('CAPABILITY_EXPIRED');
    expect((await words.timeline(browser, task.id)).body.events!.map((e) => e.seq)).toEqual([1]);
  });

  it('gives the person their tasks, timelines and actions in "export my data", never the capability', async () => {
    const { browser, task, capability } = await words.someoneWithTask();
    const events: TaskEvent[] = [
      { seq: 1, at: now(), kind: 'started', model: MODEL },
      { seq: 2, at: now(), kind: 'finished', summary: 'Invited Bob to Tuesday at 10:00.' },
    ];
    await agent.report(capability, events);
    const response = await fixture.call(browser, 'GET', '/v1/me/export');
    expect(response.status).toBe(200);
    const text = await response.text();
    const data = JSON.parse(text) as {
      tenants: {
        tasks: { id: string; request: string; summary: string; timeline: TaskEvent[] }[];
      }[];
    };
    const exported = data.tenants.flatMap((tenant) => tenant.tasks);
    expect(exported).toEqual([
      expect.objectContaining({
        id: task.id,
        request: task.request,
        summary: 'Invited Bob to Tuesday at 10:00.',
        timeline: events,
      }),
    ]);
    expect(text).not.toContain(capability.split('.')[1]!);
  });
});
