import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_CATALOG, executeAction } from '@heroagent/contracts';
import type { TestBrowser } from '@heroagent/doubles';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import type { GatewayFixture } from './support/fixture.js';
import { codeOf, person } from './support/people.js';
import { claimsOf, startAgentTasksFixture, type TasksInWords } from './support/tasks-in-words.js';

const EVERYTHING = Object.keys(ACTION_CATALOG);
const READ_MAIL = 'Summarise the latest mail from carol@example.com.';

/**
 * A task in words may do what its words ask, nothing more: its capability is read from the
 * request before anything is read, shown before it starts, and widened only by an owner's or an
 * admin's explicit, recorded choice.
 */
describe('least privilege: a task’s capability from the person’s words', () => {
  let fixture: GatewayFixture;
  let words: TasksInWords;
  let close: () => Promise<void>;
  let owner: { browser: TestBrowser; tenantId: string };
  let member: TestBrowser;

  beforeAll(async () => {
    ({ fixture, words, close } = await startAgentTasksFixture());
    const signed = await fixture.signIn(person('owner'));
    owner = { browser: signed.browser, tenantId: signed.session.tenant!.id };
    const email = person('member').email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role: 'member' })
    ).json()) as { token: string };
    member = (
      await fixture.signIn({ sub: `sub-${email}`, email, name: 'M' }, { invitation: token })
    ).browser;
  });
  afterAll(async () => {
    await close?.();
  });

  const start = (browser: TestBrowser, body: Record<string, unknown>) =>
    fixture.call(browser, 'POST', '/v1/tasks', { title: 'Task', ...body });

  it('shows what a task in words may do, and why, before it starts', async () => {
    const response = await fixture.call(member, 'POST', '/v1/tasks/preview', {
      request: "Reply to Dave's latest mail (dave@example.com) saying I will attend.",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      actions: [
        { action: 'gmail.messages.send', because: '"reply"' },
        { action: 'gmail.messages.search', because: '"reply"' },
        { action: 'gmail.messages.read', because: '"reply"' },
      ],
    });
    const bad = await fixture.call(member, 'POST', '/v1/tasks/preview', {
      request: 'x',
      actions: ['gmail.messages.nuke'],
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'ACTION_UNKNOWN' });
  });

  it('gives a task that asks to read only reads, whatever was listed, and records how', async () => {
    const response = await start(member, { request: READ_MAIL, actions: EVERYTHING });
    expect(response.status).toBe(201);
    const { task, capability } = (await response.json()) as {
      task: { id: string; actions: string[]; scope: string };
      capability: string;
    };
    expect(task.scope).toBe('derived');
    expect(claimsOf(capability).actions.sort()).toEqual([
      'gmail.messages.read',
      'gmail.messages.search',
    ]);
    const started = (await words.auditOf(owner.tenantId)).find(
      (event) => event.name === 'task.started' && event.taskId === task.id,
    );
    expect(started?.data).toMatchObject({ scope: 'derived' });
    // The agent, holding that capability, cannot trash or send, whatever it read.
    const agent = ContractClient.create(
      natsEnvSchema.parse({ NATS_URL: fixture.nats.url }),
      'agent',
    );
    await agent.connect();
    try {
      const trash = agent.request(executeAction, {
        capability,
        action: 'gmail.messages.trash',
        params: { messageId: 'm1' },
        idempotencyKey: 'trash-the-mail-0001',
        rationale: 'The mail said to.',
      });
      expect(await codeOf(trash)).toBe('ACTION_NOT_ALLOWED');
    } finally {
      await agent.close();
    }
  });

  it('refuses a request that asks for none of the listed actions, and a start with neither', async () => {
    const none = await start(member, { request: READ_MAIL, actions: ['purchase.create'] });
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({
      code: 'INVALID_REQUEST',
      issues: [
        {
          path: 'body.actions',
          message: 'the request asks for gmail.messages.search, gmail.messages.read',
        },
      ],
    });
    const neither = await start(member, {});
    expect(neither.status).toBe(400);
    expect(await neither.json()).toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('lets only an owner or admin choose a broad capability, recorded beside what the words asked', async () => {
    const refused = await start(member, {
      request: READ_MAIL,
      actions: EVERYTHING,
      scope: 'broad',
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'FORBIDDEN' });
    const broad = await start(owner.browser, {
      request: READ_MAIL,
      actions: EVERYTHING,
      scope: 'broad',
    });
    expect(broad.status).toBe(201);
    const { task, capability } = (await broad.json()) as {
      task: { id: string; scope: string };
      capability: string;
    };
    expect(task.scope).toBe('broad');
    expect(claimsOf(capability).actions.sort()).toEqual([...EVERYTHING].sort());
    const started = (await words.auditOf(owner.tenantId)).find(
      (event) => event.name === 'task.started' && event.taskId === task.id,
    );
    expect(started?.data).toMatchObject({
      scope: 'broad',
      requestAsked: ['gmail.messages.search', 'gmail.messages.read'],
    });
    const withoutList = await start(owner.browser, { request: READ_MAIL, scope: 'broad' });
    expect(withoutList.status).toBe(400);
  });

  it('keeps a task without words (an API client drives it) to exactly the listed actions', async () => {
    const response = await start(member, { actions: ['gmail.messages.search'] });
    expect(response.status).toBe(201);
    const { task } = (await response.json()) as { task: { actions: string[]; scope: string } };
    expect(task).toMatchObject({ actions: ['gmail.messages.search'], scope: 'listed' });
  });
});
