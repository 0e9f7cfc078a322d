import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContractError,
  executeAction,
  type RpcRequestInput,
  type RpcResponse,
} from '@heroagent/contracts';
import type { TestBrowser } from '@heroagent/doubles';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import { ActionExecutor } from '../src/actions/action-executor.js';
import { openPersonalFields } from '../src/privacy/personal-fields.js';
import { PersonalKeys } from '../src/privacy/personal-keys.js';
import { leavesTheApi, startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { person } from './support/people.js';

const WRITES_ALLOWED = `@id("writes-without-approval")
@reason("This tenant lets its agents write without asking")
permit (principal, action in HeroAgent::Action::"reversible", resource);
@id("sends-without-approval")
@reason("Sends leave after the undo window without asking")
permit (principal, action == HeroAgent::Action::"gmail.messages.send", resource);`;

/** Every Gmail and Calendar action, from the agent's request to the double and back. */
describe('actions against the Gmail and Calendar doubles', () => {
  let fixture: GatewayFixture;
  let agent: ContractClient;
  let capability: string;
  let account: string;
  let tenantId: string;
  let owner: TestBrowser;

  const act = (
    action: string,
    params: Record<string, unknown>,
    idempotencyKey = `key-${randomUUID()}`,
  ): Promise<RpcResponse<typeof executeAction>> =>
    agent.request(executeAction, {
      capability,
      action,
      params: params as Record<string, never>,
      idempotencyKey,
      rationale: `Doing ${action} as asked.`,
    } satisfies RpcRequestInput<typeof executeAction>);

  const completed = async (action: string, params: Record<string, unknown>) => {
    const answer = await act(action, params);
    if (answer.status !== 'completed') throw new Error(`${action} is ${answer.status}`);
    return answer;
  };

  beforeAll(async () => {
    fixture = await startGatewayFixture();
    agent = ContractClient.create(natsEnvSchema.parse({ NATS_URL: fixture.nats.url }), 'agent');
    await agent.connect();
    const { browser, session } = await fixture.signIn(person('owner'));
    owner = browser;
    tenantId = session.tenant!.id;
    const acct = person('mailbox');
    account = acct.email;
    fixture.provider.nextUser(acct);
    await browser.follow(
      `${fixture.origin}/v1/connections/google/start?scopes=gmail.read,gmail.modify,gmail.send,calendar.read,calendar.events`,
      leavesTheApi(fixture.origin),
    );
    const connection = [...fixture.vault.connections.values()].find((c) => c.account === account)!;
    await fixture.call(browser, 'POST', '/v1/tenant/policy', {
      text: WRITES_ALLOWED,
      expectedVersion: 0,
    });
    const started = (await (
      await fixture.call(browser, 'POST', '/v1/tasks', {
        title: 'Everything',
        actions: [
          'gmail.messages.search',
          'gmail.messages.read',
          'gmail.drafts.create',
          'gmail.messages.send',
          'gmail.messages.label',
          'gmail.messages.archive',
          'gmail.messages.trash',
          'calendar.events.list',
          'calendar.freebusy',
          'calendar.events.create',
          'calendar.events.update',
          'calendar.events.delete',
        ],
        connectionId: connection.id,
      })
    ).json()) as { capability: string };
    capability = started.capability;
  });
  afterAll(async () => {
    await agent?.close();
    await fixture?.close();
  });

  it('searches, returning a summary per message with a token of a read scope', async () => {
    fixture.gmail.addMessage({
      account,
      from: 'ada@corp.example',
      to: account,
      subject: 'Invoice 42',
      body: 'Pay me',
    });
    fixture.gmail.addMessage({
      account,
      from: 'bob@corp.example',
      to: account,
      subject: 'Lunch?',
      body: 'Noon',
    });
    const answer = await completed('gmail.messages.search', { query: 'from:ada@corp.example' });
    expect(answer.result).toEqual({
      messages: [expect.objectContaining({ from: 'ada@corp.example', subject: 'Invoice 42' })],
    });
    expect(answer.undo).toEqual({ available: false });
    const used = fixture.vault.issued.at(-1)!;
    expect(used.scopes).toEqual(['https://www.googleapis.com/auth/gmail.readonly']);
  });

  it('reads only the fields asked for', async () => {
    const id = fixture.gmail.addMessage({
      account,
      from: 'ada@corp.example',
      to: account,
      subject: 'Secret plans',
      body: 'The body',
    });
    const answer = await completed('gmail.messages.read', { messageId: id, fields: ['subject'] });
    expect(answer.result).toEqual({ id, subject: 'Secret plans' });
    const withBody = await completed('gmail.messages.read', {
      messageId: id,
      fields: ['from', 'body'],
    });
    const read = withBody.result as { id: string; from: string; body: string };
    expect(Object.keys(read).sort()).toEqual(['body', 'from', 'id']);
    expect(read.from).toBe('ada@corp.example');
    expect(read.body).toContain('The body');
  });

  it('creates a draft, with a subject that cannot inject headers', async () => {
    const answer = await completed('gmail.drafts.create', {
      to: ['ada@corp.example'],
      subject: 'Café\r\nBcc: eve@evil.example',
      body: 'Bonjour',
    });
    const { draftId } = answer.result as { draftId: string };
    expect(draftId).toBeTruthy();
    expect(answer.undo).toEqual({ available: true });
    const create = fixture.gmail.requests.find((r) => r.operation === 'gmail.users.drafts.create')!;
    const raw = Buffer.from(
      (create.body as { message: { raw: string } }).message.raw,
      'base64url',
    ).toString('utf8');
    expect(raw).not.toMatch(/^Bcc:/m);
    expect(raw).toMatch(/^Subject: =\?UTF-8\?B\?/m);
  });

  it('labels, archives and trashes a message', async () => {
    const id = fixture.gmail.addMessage({
      account,
      from: 'x@corp.example',
      to: account,
      subject: 'S',
      body: 'B',
    });
    await completed('gmail.messages.label', {
      messageId: id,
      add: ['STARRED'],
      remove: ['UNREAD'],
    });
    expect(fixture.gmail.getMessage(id, account)?.labelIds).toEqual(
      expect.arrayContaining(['STARRED', 'INBOX']),
    );
    await completed('gmail.messages.archive', { messageId: id });
    expect(fixture.gmail.getMessage(id, account)?.labelIds).not.toContain('INBOX');
    await completed('gmail.messages.trash', { messageId: id });
    expect(fixture.gmail.getMessage(id, account)?.labelIds).toContain('TRASH');
  });

  it('lists events, finds busy time, creates, updates and deletes an event', async () => {
    fixture.calendar.addEvent(account, {
      summary: 'Standup',
      start: { dateTime: '2026-11-26T09:00:00Z' },
      end: { dateTime: '2026-11-26T09:15:00Z' },
    });
    const window = { timeMin: '2026-11-26T00:00:00Z', timeMax: '2026-11-27T00:00:00Z' };
    const listed = await completed('calendar.events.list', window);
    expect(
      (listed.result as { events: { summary: string }[] }).events.map((e) => e.summary),
    ).toEqual(['Standup']);
    const busy = await completed('calendar.freebusy', window);
    expect(busy.result).toEqual({
      calendars: { primary: [{ start: '2026-11-26T09:00:00Z', end: '2026-11-26T09:15:00Z' }] },
    });
    const created = await completed('calendar.events.create', {
      summary: 'Lunch with Ada',
      start: { dateTime: '2026-11-26T12:00:00Z' },
      end: { dateTime: '2026-11-26T13:00:00Z' },
      attendees: ['ada@corp.example'],
    });
    const { eventId } = created.result as { eventId: string };
    expect(fixture.calendar.getEvent(account, eventId)?.attendees).toEqual([
      expect.objectContaining({ email: 'ada@corp.example' }),
    ]);
    await completed('calendar.events.update', {
      eventId,
      changes: { summary: 'Late lunch with Ada' },
    });
    expect(fixture.calendar.getEvent(account, eventId)?.summary).toBe('Late lunch with Ada');
    await completed('calendar.events.delete', { eventId });
    expect(fixture.calendar.getEvent(account, eventId)?.status).toBe('cancelled');
  });

  it('records each executed action with its rationale and the policy that allowed it', async () => {
    const events = (await fixture.openedAuditEvents()).filter(
      (e) => e.event.tenantId === tenantId && e.event.name === 'action.executed',
    );
    expect(events.map((e) => e.event.action)).toEqual(
      expect.arrayContaining([
        'gmail.messages.search',
        'gmail.drafts.create',
        'calendar.events.delete',
      ]),
    );
    const draft = events.find((e) => e.event.action === 'gmail.drafts.create')!;
    expect(draft.event).toMatchObject({
      outcome: 'success',
      actor: { type: 'agent' },
      rationale: 'Doing gmail.drafts.create as asked.',
      policy: { effect: 'allow', policyId: 'writes-without-approval' },
    });
    expect(draft.event.relatedEventId).toBeDefined();
  });

  it('answers PROVIDER_UNAVAILABLE when Google fails, and records the failure', async () => {
    fixture.gmail.failNext(503);
    await expect(completed('gmail.messages.search', {})).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
    });
    const failed = (await fixture.auditEvents()).filter(
      (e) => e.event.tenantId === tenantId && e.event.name === 'action.failed',
    );
    // The code in clear; the provider's message (which may repeat what it was sent) sealed.
    expect(failed.at(-1)?.event.data.error).toEqual({ code: 'PROVIDER_UNAVAILABLE' });
    expect(failed.at(-1)?.event.personal).toBeDefined();
    const opened = await openPersonalFields(
      fixture.gateway.app.get(PersonalKeys),
      [failed.at(-1)!.event],
      tenantId,
    );
    expect(opened.get(failed.at(-1)!.event.id)).toMatchObject({
      details: { errorMessage: expect.stringMatching(/./) as unknown },
    });
  });

  const undo = (actionId: string) => fixture.call(owner, 'POST', `/v1/actions/${actionId}/undo`);

  it('undoes each Gmail write through the same path, once', async () => {
    const draft = await completed('gmail.drafts.create', {
      to: ['ada@corp.example'],
      subject: 'U',
      body: 'u',
    });
    const { draftId } = draft.result as { draftId: string };
    expect((await undo(draft.actionId)).status).toBe(200);
    expect(
      fixture.gmail.requests.some(
        (r) => r.operation === 'gmail.users.drafts.delete' && r.path.endsWith(draftId),
      ),
    ).toBe(true);
    const twice = await undo(draft.actionId);
    expect(twice.status).toBe(409);

    const id = fixture.gmail.addMessage({
      account,
      from: 'x@corp.example',
      to: account,
      subject: 'S',
      body: 'B',
    });
    const labels = () => fixture.gmail.getMessage(id, account)?.labelIds as string[];
    const original = [...labels()].sort();
    const labelled = await completed('gmail.messages.label', {
      messageId: id,
      add: ['STARRED'],
      remove: ['UNREAD'],
    });
    expect((await undo(labelled.actionId)).status).toBe(200);
    expect([...labels()].sort()).toEqual(original);
    const archived = await completed('gmail.messages.archive', { messageId: id });
    expect(labels()).not.toContain('INBOX');
    expect((await undo(archived.actionId)).status).toBe(200);
    expect(labels()).toContain('INBOX');
    const trashed = await completed('gmail.messages.trash', { messageId: id });
    expect(labels()).toContain('TRASH');
    expect((await undo(trashed.actionId)).status).toBe(200);
    expect(labels()).not.toContain('TRASH');
  });

  it('undoes each Calendar write: the created event goes, the changed one and the deleted one come back', async () => {
    const created = await completed('calendar.events.create', {
      summary: 'To be undone',
      start: { dateTime: '2026-11-27T12:00:00Z' },
      end: { dateTime: '2026-11-27T13:00:00Z' },
    });
    const { eventId } = created.result as { eventId: string };
    expect((await undo(created.actionId)).status).toBe(200);
    expect(fixture.calendar.getEvent(account, eventId)?.status).toBe('cancelled');

    const kept = fixture.calendar.addEvent(account, {
      summary: 'Original',
      location: 'Room 1',
      start: { dateTime: '2026-11-28T09:00:00Z' },
      end: { dateTime: '2026-11-28T10:00:00Z' },
    });
    const updated = await completed('calendar.events.update', {
      eventId: kept.id,
      changes: { summary: 'Changed', location: 'Room 2' },
    });
    expect((await undo(updated.actionId)).status).toBe(200);
    expect(fixture.calendar.getEvent(account, kept.id!)).toMatchObject({
      summary: 'Original',
      location: 'Room 1',
    });
    const deleted = await completed('calendar.events.delete', { eventId: kept.id });
    expect(fixture.calendar.getEvent(account, kept.id!)?.status).toBe('cancelled');
    expect((await undo(deleted.actionId)).status).toBe(200);
    expect(fixture.calendar.getEvent(account, kept.id!)).toMatchObject({
      status: 'confirmed',
      summary: 'Original',
    });
  });

  it('says so when an action cannot be undone, and links each undo to its action in audit', async () => {
    const read = await completed('gmail.messages.search', {});
    const refused = await undo(read.actionId);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({
      message: 'this action cannot be undone: reading changes nothing',
    });
    const events = (await fixture.auditEvents()).filter((e) => e.event.tenantId === tenantId);
    const undone = events.filter((e) => e.event.name === 'action.undone');
    expect(undone.length).toBeGreaterThanOrEqual(7);
    for (const { event } of undone) {
      const original = events.find((e) => e.event.id === event.relatedEventId);
      expect(original?.event.name).toBe('action.executed');
      expect(original?.event.data.actionId).toBe(event.data.actionId);
    }
  });

  it('holds a send in the outbox for the undo window, then sends it once', async () => {
    const executor = fixture.gateway.app.get(ActionExecutor);
    const before = fixture.gmail.sent.length;
    const answer = await completed('gmail.messages.send', {
      to: ['ada@corp.example'],
      subject: 'Out it goes',
      body: 'Hello Ada',
    });
    const { outboxId, sendsAt } = answer.result as { outboxId: string; sendsAt: string };
    expect(outboxId).toBe(answer.actionId);
    expect(answer.undo).toEqual({ available: true, until: sendsAt });
    expect(Date.parse(sendsAt) - Date.now()).toBeGreaterThan(20_000);
    expect(await executor.releaseDue()).toBe(0);
    expect(fixture.gmail.sent.length).toBe(before);
    expect(await executor.releaseDue(new Date(Date.now() + 60_000))).toBe(1);
    expect(await executor.releaseDue(new Date(Date.now() + 60_000))).toBe(0);
    expect(fixture.gmail.sent.length).toBe(before + 1);
    expect(fixture.gmail.sent.at(-1)).toMatchObject({
      subject: 'Out it goes',
      to: 'ada@corp.example',
    });
    // Once sent, it cannot be unsent, and says so.
    const late = await undo(answer.actionId);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({
      message: 'it has already been sent, and a sent message cannot be unsent',
    });
    const names = (await fixture.auditEvents())
      .filter((e) => e.event.data.actionId === answer.actionId)
      .map((e) => e.event.name);
    expect(names).toEqual(['action.requested', 'action.scheduled', 'action.executed']);
  });

  it('cancels a send during its undo window: it never leaves', async () => {
    const executor = fixture.gateway.app.get(ActionExecutor);
    const before = fixture.gmail.sent.length;
    const answer = await completed('gmail.messages.send', {
      to: ['ada@corp.example'],
      subject: 'Oops',
      body: 'Not meant to go',
    });
    expect((await undo(answer.actionId)).status).toBe(200);
    expect(await executor.releaseDue(new Date(Date.now() + 60_000))).toBe(0);
    expect(fixture.gmail.sent.length).toBe(before);
    expect((await undo(answer.actionId)).status).toBe(409);
    const names = (await fixture.auditEvents())
      .filter((e) => e.event.data.actionId === answer.actionId)
      .map((e) => e.event.name);
    expect(names).toContain('action.cancelled');
    expect(names).not.toContain('action.executed');
  });

  it('acts once under concurrent retries of one request', async () => {
    const key = `key-${randomUUID()}`;
    const params = { to: ['ada@corp.example'], subject: 'Once', body: 'Only once' };
    const before = fixture.gmail.callCount('gmail.users.drafts.create');
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        act('gmail.drafts.create', params, key).catch((e: unknown) => e),
      ),
    );
    const ids = new Set(
      answers.map((answer) =>
        answer instanceof ContractError
          ? answer.code
          : (answer as RpcResponse<typeof executeAction>).actionId,
      ),
    );
    expect(ids.size).toBe(1);
    expect(fixture.gmail.callCount('gmail.users.drafts.create')).toBe(before + 1);
  });
});
