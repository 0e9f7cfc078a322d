import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  listModelProviders,
  startAgentTask,
  type TaskEvent,
  type TenantModelSettings,
} from '@heroagent/contracts';
import { toolResults, type ChatRequest } from '@heroagent/doubles';
import { startAgentFixture, type AgentFixture } from './support/fixture.js';

let fx: AgentFixture;

beforeAll(async () => {
  fx = await startAgentFixture();
  const provider = (id: string, location: string, trains?: boolean) => ({
    id,
    location,
    baseUrl: fx.model.url,
    model: 'scripted-model',
    ...(trains === undefined ? {} : { trainsOnCustomerData: trains }),
  });
  await fx.restart({
    LLM_BASE_URL: '',
    AGENT_MODEL_PROVIDERS: JSON.stringify([
      provider('on-prem', 'local'),
      provider('hosted', 'cloud', false),
      provider('trainer', 'cloud', true),
    ]),
  });
}, 60_000);
afterAll(async () => {
  await fx?.close();
});
beforeEach(async () => {
  await fx.resetGateway();
  fx.model.clearScript();
});

const cloud: TenantModelSettings = {
  allowCloud: true,
  providerId: 'hosted',
  cloudMayReadBodies: false,
};

function start(text: string, actions: string[], models: TenantModelSettings) {
  const { token, claims } = fx.capability({ actions });
  return fx.client.request(startAgentTask, {
    tenantId: claims.tenantId,
    userId: claims.userId,
    taskId: claims.taskId,
    text,
    capability: token,
    models,
  });
}

const PERSONAL = [
  'ann@corp.example',
  '+44 20 7946 0958',
  'bob.jones@example.com',
  'Bob Jones',
  'Jones',
  'The door code is 4411',
];

describe('a cloud model never sees personal data', () => {
  it('gets placeholders; what it answers is restored before the gateway and the person see it', async () => {
    fx.model.script(
      {
        toolCalls: [
          {
            name: 'gmail_messages_read',
            arguments: {
              messageId: 'm1',
              fields: ['from', 'subject', 'body'],
              rationale: 'To see what [EMAIL_1] needs.',
            },
          },
        ],
      },
      (request: ChatRequest) => {
        const [read] = toolResults(request);
        expect(JSON.parse(read!.content)).toMatchObject({
          data: { from: '[NAME_1] <[EMAIL_2]>', body: '[BODY_1]' },
        });
        return {
          toolCalls: [
            {
              name: 'gmail_messages_send',
              arguments: {
                to: ['[EMAIL_1]'],
                cc: ['[EMAIL_2]'],
                subject: 'Offsite',
                body: 'Hi, [NAME_1_GIVEN] wrote: [BODY_1]. Call me on [PHONE_1].',
                rationale: 'You asked me to tell [EMAIL_1] what [NAME_1] wrote.',
              },
            },
          ],
        };
      },
      { text: 'Told [EMAIL_1] what [NAME_1] wrote, copying [NAME_1_GIVEN].' },
    );
    fx.gateway.onExecute = (request) => ({
      status: 'completed',
      actionId: randomUUID(),
      auditEventId: randomUUID(),
      result: (request.action === 'gmail.messages.read'
        ? {
            id: 'm1',
            from: 'Bob Jones <bob.jones@example.com>',
            subject: 'Offsite',
            body: 'The door code is 4411',
          }
        : { outboxId: randomUUID(), sendsAt: new Date().toISOString() }) as Record<string, string>,
      undo: { available: true },
    });
    const before = fx.model.requests.length;
    await expect(
      start(
        'Tell ann@corp.example what Bob Jones wrote about the offsite; my number is +44 20 7946 0958',
        ['gmail.messages.read', 'gmail.messages.send'],
        cloud,
      ),
    ).resolves.toMatchObject({ model: { providerId: 'hosted', location: 'cloud' } });
    expect(await fx.gateway.ended()).toMatchObject({
      kind: 'finished',
      summary: 'Told ann@corp.example what Bob Jones wrote, copying Bob.',
    });

    const reached = fx.model.requests.slice(before).map((request) => JSON.stringify(request));
    expect(reached).toHaveLength(3);
    for (const value of PERSONAL) {
      for (const text of reached) expect(text).not.toContain(value);
    }
    expect(reached[0]).toContain('[EMAIL_1]');
    expect(reached[0]).toContain('[PHONE_1]');

    const send = fx.gateway.executes.find((request) => request.action === 'gmail.messages.send')!;
    expect(send.params).toMatchObject({
      to: ['ann@corp.example'],
      cc: ['bob.jones@example.com'],
      body: 'Hi, Bob wrote: The door code is 4411. Call me on +44 20 7946 0958.',
    });
    expect(send.rationale).toBe('You asked me to tell ann@corp.example what Bob Jones wrote.');
    // Where values came from is the gateway's to decide: the agent declares nothing of its own.
    expect(send.untrustedParams).toEqual([]);

    const used = fx.gateway.timeline().find((event) => event.kind === 'model.used') as Extract<
      TaskEvent,
      { kind: 'model.used' }
    >;
    expect(used.model).toEqual({
      providerId: 'hosted',
      model: 'scripted-model',
      location: 'cloud',
    });
    expect(used.redacted).toEqual(
      expect.arrayContaining([
        'email_addresses',
        'phone_numbers',
        'contact_names',
        'message_bodies',
      ]),
    );
    expect(used.saw).not.toEqual(expect.arrayContaining(['email_addresses']));
    expect(used.saw).toEqual(expect.arrayContaining(['task_text', 'message_metadata']));
  });

  it('lets a cloud model read bodies only where the tenant allows it, addresses still hidden', async () => {
    fx.model.script(
      {
        toolCalls: [
          {
            name: 'gmail_messages_read',
            arguments: { messageId: 'm1', fields: ['body'], rationale: 'Reading it.' },
          },
        ],
      },
      (request: ChatRequest) => {
        expect(JSON.parse(toolResults(request)[0]!.content)).toMatchObject({
          data: { body: 'Lunch at noon? Write to [EMAIL_1]' },
        });
        return { text: 'Lunch at noon.' };
      },
    );
    fx.gateway.onExecute = () => ({
      status: 'completed',
      actionId: randomUUID(),
      auditEventId: randomUUID(),
      result: { id: 'm1', body: 'Lunch at noon? Write to ann@corp.example' },
      undo: { available: false },
    });
    await start('What does my last mail say?', ['gmail.messages.read'], {
      ...cloud,
      cloudMayReadBodies: true,
    });
    expect(await fx.gateway.ended()).toMatchObject({ kind: 'finished', summary: 'Lunch at noon.' });
  });

  it('gives a local model everything, and says so', async () => {
    fx.model.script({ text: 'Nothing to do for ann@corp.example.' });
    await expect(
      start('Check on ann@corp.example', ['gmail.messages.read'], {
        allowCloud: false,
        providerId: null,
        cloudMayReadBodies: false,
      }),
    ).resolves.toMatchObject({ model: { providerId: 'on-prem', location: 'local' } });
    await fx.gateway.ended();
    expect(fx.model.transcript()).toContain('Check on ann@corp.example');
    const used = fx.gateway.timeline().find((event) => event.kind === 'model.used');
    expect(used).toMatchObject({ saw: ['email_addresses', 'task_text'], redacted: [] });
  });
});

describe('which model a tenant gets', () => {
  it('lists the providers without URLs or keys', async () => {
    const listed = await fx.client.request(listModelProviders, {});
    expect(listed).toEqual({
      defaultProviderId: 'on-prem',
      providers: [
        {
          id: 'on-prem',
          name: 'on-prem',
          location: 'local',
          model: 'scripted-model',
          trainsOnCustomerData: false,
        },
        {
          id: 'hosted',
          name: 'hosted',
          location: 'cloud',
          model: 'scripted-model',
          trainsOnCustomerData: false,
        },
        {
          id: 'trainer',
          name: 'trainer',
          location: 'cloud',
          model: 'scripted-model',
          trainsOnCustomerData: true,
        },
      ],
    });
    expect(JSON.stringify(listed)).not.toContain('127.0.0.1');
  });

  it('never uses a cloud model for a local-only tenant, nor one that trains on customer data', async () => {
    const before = fx.model.requests.length;
    await expect(
      start('x', ['gmail.messages.read'], {
        allowCloud: false,
        providerId: 'hosted',
        cloudMayReadBodies: false,
      }),
    ).rejects.toThrow(/local models only/);
    await expect(
      start('x', ['gmail.messages.read'], {
        allowCloud: false,
        providerId: 'hosted',
        cloudMayReadBodies: false,
      }),
    ).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    await expect(
      start('x', ['gmail.messages.read'], {
        allowCloud: true,
        providerId: 'trainer',
        cloudMayReadBodies: false,
      }),
    ).rejects.toThrow(/may train on customer data/);
    await expect(
      start('x', ['gmail.messages.read'], {
        allowCloud: true,
        providerId: 'nowhere',
        cloudMayReadBodies: false,
      }),
    ).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    expect(fx.model.requests.length).toBe(before);
    expect(fx.gateway.events).toEqual([]);
  });

  it('fails a task with MODEL_UNAVAILABLE when the model cannot be reached, and reports it', async () => {
    fx.model.script({ status: 503, error: { message: 'overloaded' } });
    await start('Anything', ['gmail.messages.read'], cloud);
    const end = await fx.gateway.ended();
    expect(end).toMatchObject({ kind: 'failed', code: 'MODEL_UNAVAILABLE' });
    expect(JSON.stringify(end)).toMatch(/hosted.*503/);
  });
});
