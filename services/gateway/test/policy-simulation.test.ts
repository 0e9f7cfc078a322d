import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeAction, type PolicySimulation } from '@heroagent/contracts';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import type { TestBrowser } from '@heroagent/doubles';
import {
  leavesTheApi,
  startGatewayFixture,
  type GatewayFixture,
  type SessionView,
} from './support/fixture.js';
import { person } from './support/people.js';

/**
 * "What would happen": the tenant's recent actions, asked by the agent over NATS, decided again
 * under the saved policy and under a proposed text — and nothing written or run meanwhile.
 */

/** Saved before the actions: mail to partners goes without approval. */
const PARTNERS_FREELY = `@id("mail-partners-freely")
@reason("Mail to our partners needs no approval.")
permit (principal, action == HeroAgent::Action::"gmail.messages.send", resource)
when { ["corp.example", "rival.example"].containsAll(context.recipientDomains) };`;

/** Proposed: the same, and nothing of Gmail's goes to rival.example any more. */
const NO_RIVAL_MAIL = `${PARTNERS_FREELY}

@id("no-rival-mail")
@reason("Nothing goes to rival.example.")
forbid (principal, action in HeroAgent::Action::"gmail", resource)
when { context.recipientDomains.contains("rival.example") };`;

type Result = PolicySimulation['results'][number];

describe('POST /v1/tenant/policy/simulate', () => {
  let fixture: GatewayFixture;
  let agent: ContractClient;
  let admin: Kysely<unknown>;
  let owner: { browser: TestBrowser; session: SessionView };
  /** Tenant A's actions by name, in the order they were asked. */
  const asked: Record<string, string> = {};
  let otherTenantActionId: string;
  let other: { browser: TestBrowser };

  const ask = async (capability: string, action: string, params: Record<string, unknown>) => {
    const answer = await agent.request(executeAction, {
      capability,
      action,
      params: params as Record<string, never>,
      idempotencyKey: `key-${randomUUID()}`,
      rationale: 'The person asked.',
    });
    return answer.actionId;
  };

  const simulate = async (browser: TestBrowser, body: Record<string, unknown>) => {
    const response = await fixture.call(browser, 'POST', '/v1/tenant/policy/simulate', body);
    return { status: response.status, body: (await response.json()) as PolicySimulation };
  };

  const byId = (simulation: PolicySimulation) =>
    new Map(simulation.results.map((result) => [result.actionId, result] as const));

  /** Everything the simulator could have touched, across tenants, read as the superuser. */
  const snapshot = async () => ({
    actions: (
      await sql`select id, tenant_id, status, policy, params, updated_at from actions order by id`.execute(
        admin,
      )
    ).rows,
    policies: (
      await sql`select tenant_id, version, text from tenant_policies order by tenant_id, version`.execute(
        admin,
      )
    ).rows,
    approvals: (await sql`select id, status, decisions from approvals order by id`.execute(admin))
      .rows,
    outbox: (await sql`select id from audit_outbox order by id`.execute(admin)).rows,
  });

  async function join(role: 'auditor' | 'member') {
    const email = person(role).email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role })
    ).json()) as { token: string };
    return fixture.signIn({ sub: `sub-${email}`, email, name: role }, { invitation: token });
  }

  async function startTask(browser: TestBrowser, body: Record<string, unknown>) {
    const response = await fixture.call(browser, 'POST', '/v1/tasks', body);
    expect(response.status).toBe(201);
    return ((await response.json()) as { capability: string }).capability;
  }

  beforeAll(async () => {
    // Sends stay in the outbox for the whole test: nothing changes behind the snapshots.
    fixture = await startGatewayFixture({ SEND_UNDO_WINDOW_S: '600' });
    agent = ContractClient.create(natsEnvSchema.parse({ NATS_URL: fixture.nats.url }), 'agent');
    await agent.connect();
    admin = createDatabase<unknown>({
      connectionString: fixture.database.adminUrl,
      schema: 'gateway',
      applicationName: 'gateway-test-admin',
    });

    owner = await fixture.signIn(person('owner'));
    fixture.provider.nextUser(person('account'));
    await owner.browser.follow(
      `${fixture.origin}/v1/connections/google/start?scopes=gmail.read,gmail.modify,gmail.send`,
      leavesTheApi(fixture.origin),
    );
    const connection = [...fixture.vault.connections.values()].find(
      (c) => c.userId === owner.session.user.id,
    )!;
    const saved = await fixture.call(owner.browser, 'POST', '/v1/tenant/policy', {
      text: PARTNERS_FREELY,
      expectedVersion: 0,
    });
    expect(saved.status).toBe(200);
    const mail = await startTask(owner.browser, {
      title: 'Mail',
      actions: ['gmail.messages.search', 'gmail.drafts.create', 'gmail.messages.send'],
      connectionId: connection.id,
    });
    const shopping = await startTask(owner.browser, {
      title: 'Books',
      actions: ['purchase.create'],
      limits: { spend: { maxMinor: 50_000, currency: 'EUR' } },
    });
    const message = (to: string) => ({ to: [to], subject: 'Hello', body: 'Hi.' });
    asked['search'] = await ask(mail, 'gmail.messages.search', { query: 'invoices' });
    asked['sendRival'] = await ask(mail, 'gmail.messages.send', message('ada@rival.example'));
    asked['sendCorp'] = await ask(mail, 'gmail.messages.send', message('bob@corp.example'));
    asked['sendElsewhere'] = await ask(mail, 'gmail.messages.send', message('eve@else.example'));
    asked['draftRival'] = await ask(mail, 'gmail.drafts.create', message('cy@rival.example'));
    asked['purchase'] = await ask(shopping, 'purchase.create', {
      merchant: 'books',
      item: 'SICP',
      amountMinor: 4_599,
      currency: 'EUR',
    });

    // Another tenant, with an action of its own.
    other = await fixture.signIn(person('other-owner'));
    const theirs = await startTask(other.browser, {
      title: 'Their books',
      actions: ['purchase.create'],
      limits: { spend: { maxMinor: 50_000, currency: 'EUR' } },
    });
    otherTenantActionId = await ask(theirs, 'purchase.create', {
      merchant: 'books',
      item: 'TAOCP',
      amountMinor: 9_900,
      currency: 'EUR',
    });
  });
  afterAll(async () => {
    await admin?.destroy();
    await agent?.close();
    await fixture?.close();
  });

  it('replays under the current policy exactly what was decided, and shows what a forbid would change', async () => {
    const before = await snapshot();
    const { status, body } = await simulate(owner.browser, { text: NO_RIVAL_MAIL });
    expect(status).toBe(200);
    expect(body).toMatchObject({ currentVersion: 1, replayed: 6, changed: 2 });
    // Newest first.
    expect(body.results.map((result) => result.actionId)).toEqual(
      ['purchase', 'draftRival', 'sendElsewhere', 'sendCorp', 'sendRival', 'search'].map(
        (name) => asked[name],
      ),
    );
    // The current policy decides as the executor did when the agent asked.
    for (const result of body.results) expect(result.current).toEqual(result.recorded);

    const results = byId(body);
    const of = (name: string): Result => results.get(asked[name]!)!;
    expect(of('sendRival')).toMatchObject({
      action: 'gmail.messages.send',
      class: 'irreversible',
      facts: { recipients: ['ada@rival.example'], recipientDomains: ['rival.example'] },
      current: { effect: 'allow', policyId: 'mail-partners-freely' },
      proposed: {
        effect: 'deny',
        policyId: 'no-rival-mail',
        reason: 'Nothing goes to rival.example.',
      },
      changed: true,
    });
    expect(of('draftRival')).toMatchObject({
      current: { effect: 'require_approval', policyId: 'default-approve-writes' },
      proposed: { effect: 'deny', policyId: 'no-rival-mail' },
      changed: true,
    });
    expect(of('sendCorp')).toMatchObject({
      current: { effect: 'allow', policyId: 'mail-partners-freely' },
      proposed: { effect: 'allow', policyId: 'mail-partners-freely' },
      changed: false,
    });
    expect(of('sendElsewhere')).toMatchObject({
      current: { effect: 'require_approval', policyId: 'default-approve-irreversible' },
      changed: false,
    });
    expect(of('search')).toMatchObject({
      class: 'read',
      current: { effect: 'allow', policyId: 'default-allow-reads' },
      changed: false,
    });
    expect(of('purchase')).toMatchObject({
      facts: { amount: { minor: 4_599, currency: 'EUR' }, recipients: [] },
      current: { effect: 'require_approval' },
      proposed: { effect: 'require_approval' },
      changed: false,
    });
    expect(body.summary).toEqual({
      current: { allow: 3, deny: 0, require_approval: 3 },
      proposed: { allow: 2, deny: 2, require_approval: 2 },
      transitions: [
        { from: 'allow', to: 'allow', count: 2, changed: 0 },
        { from: 'require_approval', to: 'require_approval', count: 2, changed: 0 },
        { from: 'allow', to: 'deny', count: 1, changed: 1 },
        { from: 'require_approval', to: 'deny', count: 1, changed: 1 },
      ],
    });
    expect(body.assumptions.join(' ')).toContain('as of when each action was asked');
    // Nothing was saved, run or recorded.
    expect(await snapshot()).toEqual(before);
  });

  it('changes nothing for the policy already saved', async () => {
    const { status, body } = await simulate(owner.browser, { text: PARTNERS_FREELY });
    expect(status).toBe(200);
    expect(body.replayed).toBe(6);
    expect(body.changed).toBe(0);
    expect(body.results.every((result) => !result.changed)).toBe(true);
    expect(body.summary.transitions.every((t) => t.from === t.to && t.changed === 0)).toBe(true);
  });

  it("rebuilds each action's rate counts as of when it was asked, not as of now", async () => {
    const { body } = await simulate(owner.browser, {
      text: `@id("one-a-day")
@reason("One action a day is enough.")
forbid (principal, action, resource) when { context.actionsLastDay >= 1 };`,
    });
    const results = byId(body);
    // The first action had none before it; every later one had at least that one.
    expect(results.get(asked['search']!)).toMatchObject({
      proposed: { effect: 'allow' },
      changed: false,
    });
    for (const name of ['sendRival', 'sendCorp', 'sendElsewhere', 'draftRival', 'purchase']) {
      expect(results.get(asked[name]!), name).toMatchObject({
        proposed: { effect: 'deny', policyId: 'one-a-day' },
        changed: true,
      });
    }
  });

  it('replays only as many of the newest as asked, and refuses more than 1000', async () => {
    const { body } = await simulate(owner.browser, { text: '', limit: 2 });
    expect(body.results.map((result) => result.actionId)).toEqual([
      asked['purchase'],
      asked['draftRival'],
    ]);
    // Without the tenant's policy the defaults alone decide: that send now waits for a person.
    const all = byId((await simulate(owner.browser, { text: '' })).body);
    expect(all.get(asked['sendCorp']!)).toMatchObject({
      proposed: { effect: 'require_approval', policyId: 'default-approve-irreversible' },
      changed: true,
    });
    const before = await snapshot();
    for (const body of [
      { text: '', limit: 1001 },
      { text: '', limit: 0 },
      { text: 'x'.repeat(200_001) },
      { text: '', expectedVersion: 1 },
    ]) {
      const response = await fixture.call(
        owner.browser,
        'POST',
        '/v1/tenant/policy/simulate',
        body,
      );
      // Text over the limit may meet the body-size limit first (413): the code is the same.
      expect([400, 413]).toContain(response.status);
      expect(await response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses invalid Cedar with the problems saving gives, and saves nothing', async () => {
    const before = await snapshot();
    for (const text of [
      'permit (principal, action, resource',
      '@id("x") permit (principal, action, resource) when { context.nonsense > 3 };',
      '@id("default-mine") permit (principal, action, resource);',
      'permit (principal, action, resource);',
    ]) {
      const simulated = await fixture.call(owner.browser, 'POST', '/v1/tenant/policy/simulate', {
        text,
      });
      expect(simulated.status, text).toBe(400);
      const body = (await simulated.json()) as {
        code: string;
        message: string;
        issues: { path: string; message: string }[];
      };
      expect(body.code).toBe('INVALID_REQUEST');
      expect(body.issues.length).toBeGreaterThan(0);
      expect(body.issues.every((issue) => issue.path === 'body.text')).toBe(true);
      const saving = await fixture.call(owner.browser, 'POST', '/v1/tenant/policy', {
        text,
        expectedVersion: 1,
      });
      expect(saving.status).toBe(400);
      expect(await saving.json()).toEqual(body);
    }
    expect(await snapshot()).toEqual(before);
    const policy = (await (
      await fixture.call(owner.browser, 'GET', '/v1/tenant/policy')
    ).json()) as {
      version: number;
      text: string;
    };
    expect(policy).toMatchObject({ version: 1, text: PARTNERS_FREELY });
  });

  it('lets an auditor simulate, and refuses a member', async () => {
    const auditor = await join('auditor');
    const seen = await simulate(auditor.browser, { text: NO_RIVAL_MAIL });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ replayed: 6, changed: 2 });

    const member = await join('member');
    const before = await snapshot();
    const refused = await fixture.call(member.browser, 'POST', '/v1/tenant/policy/simulate', {
      text: NO_RIVAL_MAIL,
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect(await snapshot()).toEqual(before);
  });

  it("never shows another tenant's actions", async () => {
    const mine = await simulate(owner.browser, { text: NO_RIVAL_MAIL, limit: 1000 });
    expect(mine.body.results.map((result) => result.actionId)).not.toContain(otherTenantActionId);
    const theirs = await simulate(other.browser, { text: NO_RIVAL_MAIL, limit: 1000 });
    expect(theirs.status).toBe(200);
    expect(theirs.body).toMatchObject({ currentVersion: 0, replayed: 1, changed: 0 });
    expect(theirs.body.results[0]).toMatchObject({
      actionId: otherTenantActionId,
      action: 'purchase.create',
      facts: { amount: { minor: 9_900, currency: 'EUR' } },
    });
    const text = JSON.stringify(theirs.body);
    for (const id of Object.values(asked)) expect(text).not.toContain(id);
    expect(text).not.toContain(owner.session.tenant!.id);
  });
});
