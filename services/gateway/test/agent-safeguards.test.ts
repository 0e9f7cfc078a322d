import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeAction, type RpcResponse } from '@heroagent/contracts';
import type { TestBrowser } from '@heroagent/doubles';
import { AgentDouble, OFFERED_PROVIDERS } from './support/agent-double.js';
import { leavesTheApi, startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { person } from './support/people.js';

const DEFAULTS = { allowCloud: false, providerId: null, cloudMayReadBodies: false };

const WRITES_ALLOWED = `@id("writes-without-approval")
@reason("This tenant lets its agents write without asking")
permit (principal, action in HeroAgent::Action::"reversible", resource);`;

/**
 * What keeps the agent within bounds beyond its capability: the tenant's model settings (which
 * the agent gets with every task) and the rule that a side effect built from content the agent
 * read waits for a person.
 */
describe('the agent’s safeguards', () => {
  let fixture: GatewayFixture;
  let agent: AgentDouble;

  const settingsOf = async (browser: TestBrowser) => {
    const response = await fixture.call(browser, 'GET', '/v1/tenant/agent-settings');
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const save = async (browser: TestBrowser, settings: Record<string, unknown>) => {
    const response = await fixture.call(browser, 'POST', '/v1/tenant/agent-settings', settings);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    fixture = await startGatewayFixture();
    agent = await AgentDouble.start(fixture.nats.url);
  });
  afterAll(async () => {
    await agent?.close();
    await fixture?.close();
  });

  describe('model settings', () => {
    it('starts with local models only, and lists the providers the agent offers', async () => {
      const { browser } = await fixture.signIn(person('fresh'));
      expect(await settingsOf(browser)).toEqual({
        status: 200,
        body: {
          settings: DEFAULTS,
          providers: OFFERED_PROVIDERS,
          defaultProviderId: 'local',
          updatedAt: null,
          updatedBy: null,
        },
      });
    });

    it('saves, shows and sends the settings with the next task, recorded in audit', async () => {
      const { browser, session } = await fixture.signIn(person('cloudy'));
      const chosen = { allowCloud: true, providerId: 'hosted-eu', cloudMayReadBodies: true };
      const saved = await save(browser, chosen);
      expect(saved).toMatchObject({
        status: 200,
        body: { settings: chosen, updatedBy: session.user.id },
      });
      expect((await settingsOf(browser)).body).toEqual(saved.body);
      const started = await fixture.call(browser, 'POST', '/v1/tasks', {
        title: 'Plan',
        actions: ['calendar.freebusy'],
        request: 'When am I free tomorrow?',
      });
      expect(started.status).toBe(201);
      expect(agent.starts.at(-1)).toMatchObject({
        models: chosen,
        text: 'When am I free tomorrow?',
      });
      const changed = (await fixture.auditEvents()).filter(
        (e) =>
          e.event.tenantId === session.tenant!.id &&
          e.event.name === 'tenant.agent_settings.changed',
      );
      expect(changed).toHaveLength(1);
      expect(changed[0]!.event).toMatchObject({
        actor: { type: 'user', id: session.user.id },
        data: chosen,
      });
    });

    it('refuses an unknown provider, one that trains on data, a cloud one without cloud allowed', async () => {
      const { browser } = await fixture.signIn(person('picky'));
      const local = { allowCloud: false, providerId: 'local', cloudMayReadBodies: false };
      expect((await save(browser, local)).status).toBe(200);
      const before = await settingsOf(browser);
      const refusals: [Record<string, unknown>, RegExp][] = [
        [{ ...local, providerId: 'nowhere' }, /no model provider "nowhere"/],
        [{ ...local, allowCloud: true, providerId: 'cheap-cloud' }, /train/],
        [{ ...local, providerId: 'hosted-eu' }, /cloud model/],
      ];
      for (const [settings, why] of refusals) {
        const refused = await save(browser, settings);
        expect(refused.status).toBe(503);
        expect(refused.body.code).toBe('MODEL_UNAVAILABLE');
        expect(refused.body.message).toMatch(why);
      }
      expect(await settingsOf(browser)).toEqual(before);
    });

    it('lets an auditor read the settings but not change them', async () => {
      const owner = await fixture.signIn(person('owner'));
      const email = person('auditor').email;
      const { token } = (await (
        await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', {
          email,
          role: 'auditor',
        })
      ).json()) as { token: string };
      const auditor = await fixture.signIn(
        { sub: `sub-${email}`, email, name: 'A' },
        { invitation: token },
      );
      expect((await settingsOf(auditor.browser)).status).toBe(200);
      const refused = await save(auditor.browser, { ...DEFAULTS, allowCloud: true });
      expect(refused).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      expect((await settingsOf(owner.browser)).body.settings).toEqual(DEFAULTS);
    });

    it('answers UNAVAILABLE when the agent cannot list its providers, and changes nothing', async () => {
      const { browser } = await fixture.signIn(person('outage'));
      agent.down = true;
      try {
        expect(await settingsOf(browser)).toMatchObject({
          status: 503,
          body: { code: 'UNAVAILABLE' },
        });
        const refused = await save(browser, { ...DEFAULTS, providerId: 'local' });
        expect(refused).toMatchObject({ status: 503, body: { code: 'UNAVAILABLE' } });
      } finally {
        agent.down = false;
      }
      expect((await settingsOf(browser)).body).toMatchObject({
        settings: DEFAULTS,
        updatedAt: null,
      });
    });
  });

  describe('values the agent took from content it read', () => {
    let browser: TestBrowser;
    let tenantId: string;
    let capability: string;

    const act = (action: string, params: Record<string, unknown>, untrustedParams: string[]) =>
      agent.toGateway.request(executeAction, {
        capability,
        action,
        params: params as Record<string, never>,
        idempotencyKey: `key-${randomUUID()}`,
        rationale: 'Answering the mail that asked for it.',
        untrustedParams,
      });

    const draft = { to: ['ada@corp.example'], subject: 'Re: invoice', body: 'Noted.' };

    beforeAll(async () => {
      const owner = await fixture.signIn(person('reader'));
      browser = owner.browser;
      tenantId = owner.session.tenant!.id;
      const account = person('mailbox');
      fixture.provider.nextUser(account);
      await browser.follow(
        `${fixture.origin}/v1/connections/google/start?scopes=gmail.read,gmail.modify`,
        leavesTheApi(fixture.origin),
      );
      const connection = [...fixture.vault.connections.values()].find(
        (c) => c.account === account.email,
      )!;
      const policy = await fixture.call(browser, 'POST', '/v1/tenant/policy', {
        text: WRITES_ALLOWED,
        expectedVersion: 0,
      });
      expect(policy.status).toBe(200);
      const started = (await (
        await fixture.call(browser, 'POST', '/v1/tasks', {
          title: 'Inbox',
          actions: ['gmail.messages.search', 'gmail.drafts.create'],
          connectionId: connection.id,
        })
      ).json()) as { capability: string };
      capability = started.capability;
    });

    it('runs a write the policy allows when its values came from the person', async () => {
      expect((await act('gmail.drafts.create', draft, [])).status).toBe('completed');
    });

    it('holds the same write for a person’s approval when a value came from what the agent read', async () => {
      const answer: RpcResponse<typeof executeAction> = await act('gmail.drafts.create', draft, [
        'to',
      ]);
      expect(answer.status).toBe('pending_approval');
      const { approvals } = (await (
        await fixture.call(browser, 'GET', '/v1/approvals')
      ).json()) as {
        approvals: { actionId: string; policyId: string; reason: string }[];
      };
      const shown = approvals.find((a) => a.actionId === answer.actionId);
      expect(shown).toMatchObject({ policyId: 'untrusted-input' });
      expect(shown!.reason).toContain('to (the agent took it from content it read)');
      const requested = (await fixture.auditEvents()).find(
        (e) => e.event.tenantId === tenantId && e.event.data.actionId === answer.actionId,
      );
      expect(requested?.event).toMatchObject({
        name: 'action.approval_requested',
        policy: { effect: 'require_approval', policyId: 'untrusted-input' },
        data: { untrustedParams: ['to'] },
      });
    });

    it('runs a read whatever its values came from', async () => {
      const answer = await act('gmail.messages.search', { query: 'from:ada' }, ['query']);
      expect(answer.status).toBe('completed');
    });
  });
});
