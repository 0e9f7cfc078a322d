import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAuditRecords, type AuditRecord, type TaskEvent } from '@heroagent/contracts';
import { offeredTools, toolResults, type ChatRequest } from '@heroagent/doubles';
import { ME, startEvalPlatform, type EvalPlatform } from '../eval/eval-platform.js';

// One task in words, planned by a scripted model and carried out through the real gateway,
// vault-proxy and audit under the deploy/nats permissions: the rationale of every step ends up in
// the signed audit record (sealed with the person's key), and so does which model saw what.
describe('a task in words, through the whole platform', { timeout: 120_000 }, () => {
  let platform: EvalPlatform;

  beforeAll(async () => {
    platform = await startEvalPlatform({ kind: 'scripted' });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('plans with the model, acts through the gateway, and leaves a timeline and an audit trail', async () => {
    platform.gmail.addMessage({
      from: 'Bob Jones <bob@example.com>',
      to: ME,
      subject: 'Lunch on Friday?',
      body: 'Are you free for lunch on Friday?',
      account: ME,
    });
    platform.model!.script(
      (request: ChatRequest) => {
        expect(offeredTools(request)).toEqual(['gmail_messages_search', 'gmail_messages_read']);
        return {
          toolCalls: [
            {
              name: 'gmail_messages_search',
              arguments: { query: 'from:bob@example.com', rationale: 'To find what Bob wrote.' },
            },
          ],
        };
      },
      (request: ChatRequest) => {
        const found = JSON.parse(toolResults(request)[0]!.content) as {
          data: { messages: { id: string }[] };
        };
        return {
          toolCalls: [
            {
              name: 'gmail_messages_read',
              arguments: {
                messageId: found.data.messages[0]!.id,
                fields: ['subject', 'body'],
                rationale: 'To read his latest message.',
              },
            },
          ],
        };
      },
      { text: 'Bob asks whether you are free for lunch on Friday.' },
    );
    const started = await platform.call<{ task: { id: string; agentStatus: string } }>(
      'POST',
      '/v1/tasks',
      {
        title: 'What does Bob want?',
        actions: ['gmail.messages.search', 'gmail.messages.read'],
        connectionId: platform.connectionId,
        request: 'What did bob@example.com write to me?',
      },
    );
    expect(started.status).toBe(201);
    expect(started.body.task.agentStatus).toBe('running');
    const taskId = started.body.task.id;

    let timeline: { agentStatus: string | null; events: TaskEvent[] } = {
      agentStatus: null,
      events: [],
    };
    for (let attempt = 0; attempt < 100 && timeline.agentStatus !== 'completed'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      timeline = (await platform.call<typeof timeline>('GET', `/v1/tasks/${taskId}/events`)).body;
    }
    expect(timeline.events.map((event) => event.kind)).toEqual([
      'started',
      'action.requested',
      'action.outcome',
      'action.requested',
      'action.outcome',
      'model.used',
      'finished',
    ]);
    expect(timeline.events.at(-1)).toMatchObject({
      summary: 'Bob asks whether you are free for lunch on Friday.',
    });
    const tasks = await platform.call<{ tasks: { id: string; summary: string | null }[] }>(
      'GET',
      '/v1/tasks',
    );
    expect(tasks.body.tasks.find((task) => task.id === taskId)?.summary).toMatch(/lunch/);

    // The rationales and the model's use of data are in audit's signed, chained record.
    let records: AuditRecord[] = [];
    for (let attempt = 0; attempt < 50; attempt += 1) {
      ({ records } = await platform.asGateway.request(queryAuditRecords, {
        viewer: { ...platform.person, role: 'owner' },
      }));
      if (records.some((record) => record.envelope.event.name === 'task.agent_finished')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const mine = records.filter((record) => record.envelope.event.taskId === taskId);
    const names = mine.map((record) => record.envelope.event.name);
    expect(names).toEqual(
      expect.arrayContaining(['task.started', 'agent.model_used', 'task.agent_finished']),
    );
    // The rationales travel sealed with the person's key; the gateway opens them for the viewer.
    const sealed = JSON.stringify(mine.map((record) => record.envelope.event));
    expect(sealed).not.toContain('To find what Bob wrote.');
    const activity = await platform.call<{ records: { taskId: string; rationale: string }[] }>(
      'GET',
      `/v1/activity?taskId=${taskId}&limit=200`,
    );
    const rationales = activity.body.records.map((record) => record.rationale);
    expect(rationales).toContain('To find what Bob wrote.');
    expect(rationales).toContain('To read his latest message.');
    const used = mine.find((record) => record.envelope.event.name === 'agent.model_used');
    expect(JSON.stringify(used?.envelope.event)).toMatch(/"location":"local"/);
  });
});
