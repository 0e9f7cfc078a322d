import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContractError,
  executeAction,
  getAction,
  type RpcRequestInput,
} from '@heroagent/contracts';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import { ActionExecutor } from '../src/actions/action-executor.js';
import { ActionsRepository } from '../src/actions/actions.repository.js';
import { AuditRecorder } from '../src/audit/audit-recorder.js';
import { CapabilityGate } from '../src/tasks/capability-gate.js';
import { leavesTheApi, startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { codeOf, person } from './support/people.js';

/**
 * The path of one action up to the provider: capability, catalog, parameters, the capability's
 * limits, the tenant's policy, idempotency and the audit record. (Calls to Gmail and Calendar are
 * tested against their doubles in connectors tests.)
 */
describe('gateway.actions.execute, up to the provider', () => {
  let fixture: GatewayFixture;
  let agent: ContractClient;

  async function task(
    body: Record<string, unknown> = {},
    scopes = 'gmail.read,gmail.modify,gmail.send',
  ) {
    const signed = await fixture.signIn(person('owner'));
    fixture.provider.nextUser(person('acct'));
    await signed.browser.follow(
      `${fixture.origin}/v1/connections/google/start?scopes=${scopes}`,
      leavesTheApi(fixture.origin),
    );
    const connection = [...fixture.vault.connections.values()].find(
      (c) => c.userId === signed.session.user.id,
    )!;
    const response = await fixture.call(signed.browser, 'POST', '/v1/tasks', {
      title: 'Act',
      actions: ['gmail.messages.search', 'gmail.drafts.create', 'gmail.messages.send'],
      connectionId: connection.id,
      ...body,
    });
    const started = (await response.json()) as { task: { id: string }; capability: string };
    return { ...signed, ...started, connection };
  }

  const request = (
    capability: string,
    action: string,
    params: Record<string, unknown>,
    idempotencyKey = `key-${randomUUID()}`,
  ): RpcRequestInput<typeof executeAction> => ({
    capability,
    action,
    params: params as Record<string, never>,
    idempotencyKey,
    rationale: 'Because the person asked.',
  });

  beforeAll(async () => {
    fixture = await startGatewayFixture();
    agent = ContractClient.create(natsEnvSchema.parse({ NATS_URL: fixture.nats.url }), 'agent');
    await agent.connect();
  });
  afterAll(async () => {
    await agent?.close();
    await fixture?.close();
  });

  it('refuses an action the capability does not name, and records the refusal', async () => {
    const { capability, session } = await task();
    expect(
      await codeOf(
        agent.request(
          executeAction,
          request(capability, 'calendar.events.delete', { eventId: 'e1' }),
        ),
      ),
    ).toBe('ACTION_NOT_ALLOWED');
    expect(
      await codeOf(agent.request(executeAction, request(capability, 'gmail.messages.nuke', {}))),
    ).toBe('ACTION_UNKNOWN');
    const refused = (await fixture.auditEvents()).filter(
      (e) => e.event.tenantId === session.tenant!.id && e.event.name === 'action.refused',
    );
    expect(refused).toHaveLength(1);
    // The agent's words travel sealed: only their reader in the gateway opens them.
    expect(refused[0]!.event.rationale).toBeUndefined();
    expect(JSON.stringify(refused[0])).not.toContain('Because the person asked');
    const opened = (await fixture.openedAuditEvents()).find(
      (e) => e.event.id === refused[0]!.event.id,
    )!;
    expect(opened.event.rationale).toBe('Because the person asked.');
  });

  it('refuses parameters that do not fit the action, naming them', async () => {
    const { capability } = await task();
    try {
      await agent.request(
        executeAction,
        request(capability, 'gmail.drafts.create', { to: ['nope'], subject: 1 }),
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ContractError);
      const coded = error as ContractError;
      expect(coded.code).toBe('INVALID_REQUEST');
      expect(coded.issues?.map((issue) => issue.path)).toEqual(
        expect.arrayContaining(['params.to.0', 'params.subject', 'params.body']),
      );
    }
  });

  it('holds the capability’s limits: recipients outside its domains are refused before the policy', async () => {
    const { capability } = await task({ limits: { recipientDomains: ['corp.example'] } });
    const outside = request(capability, 'gmail.drafts.create', {
      to: ['ada@corp.example', 'eve@elsewhere.example'],
      subject: 'Hi',
      body: 'Hello',
    });
    expect(await codeOf(agent.request(executeAction, outside))).toBe('ACTION_NOT_ALLOWED');
  });

  it('asks the tenant’s policy: a forbid denies, recorded with the policy that decided and why', async () => {
    const { capability, browser, session } = await task();
    const saved = await fixture.call(browser, 'POST', '/v1/tenant/policy', {
      expectedVersion: 0,
      text: `@id("no-drafts-to-competitors")
@reason("Nothing goes to rival.example")
forbid (principal, action in HeroAgent::Action::"gmail", resource)
when { context.recipientDomains.contains("rival.example") };`,
    });
    expect(saved.status).toBe(200);
    const key = `key-${randomUUID()}`;
    const denied = request(
      capability,
      'gmail.drafts.create',
      { to: ['x@rival.example'], subject: 'Hi', body: 'B' },
      key,
    );
    try {
      await agent.request(executeAction, denied);
      expect.unreachable();
    } catch (error) {
      expect((error as ContractError).code).toBe('POLICY_DENIED');
      expect((error as ContractError).message).toContain('Nothing goes to rival.example');
      expect((error as ContractError).message).toContain('no-drafts-to-competitors');
    }
    // The same request again: the same answer, from the record, not a second decision.
    expect(await codeOf(agent.request(executeAction, denied))).toBe('POLICY_DENIED');
    const events = (await fixture.openedAuditEvents()).filter(
      (e) => e.event.tenantId === session.tenant!.id && e.event.name === 'action.denied',
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toMatchObject({
      outcome: 'denied',
      action: 'gmail.drafts.create',
      rationale: 'Because the person asked.',
      policy: {
        effect: 'deny',
        policyId: 'no-drafts-to-competitors',
        reason: 'Nothing goes to rival.example',
      },
    });
  });

  it('refuses to reuse an idempotency key for a different request', async () => {
    const { capability } = await task();
    const key = `key-${randomUUID()}`;
    const first = request(
      capability,
      'gmail.messages.send',
      { to: ['a@example.com'], subject: 'A', body: 'a' },
      key,
    );
    await codeOf(agent.request(executeAction, first));
    const other = request(
      capability,
      'gmail.messages.send',
      { to: ['b@example.com'], subject: 'B', body: 'b' },
      key,
    );
    expect(await codeOf(agent.request(executeAction, other))).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('keeps the audit event of an action done while it could not publish, and publishes it after a restart', async () => {
    const { capability, session } = await task();
    await fixture.auditStream.remove();
    const answer = await agent.request(
      executeAction,
      request(capability, 'gmail.messages.search', { query: 'anything' }),
    );
    expect(answer.status).toBe('completed');
    // The gateway stops with the event still in its outbox; it comes back with audit's stream.
    await fixture.restartGateway(() => fixture.auditStream.create());
    let names: string[] = [];
    for (let attempt = 0; attempt < 40 && !names.includes('action.executed'); attempt += 1) {
      names = (await fixture.auditEvents())
        .filter(
          (e) =>
            e.event.tenantId === session.tenant!.id && e.event.data.actionId === answer.actionId,
        )
        .map((e) => e.event.name);
      if (!names.includes('action.executed'))
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(names).toEqual(['action.requested', 'action.executed']);
  });

  it('marks an action a crash left running as failed with an unknown outcome, and records it', async () => {
    const { capability, session, task: started, connection } = await task();
    const gate = fixture.gateway.app.get(CapabilityGate);
    const claims = await gate.admit(capability, { action: 'gmail.messages.search' });
    const actions = fixture.gateway.app.get(ActionsRepository);
    const audit = fixture.gateway.app.get(AuditRecorder);
    const id = randomUUID();
    // What a gateway that died mid-call leaves: an action recorded as running, and nothing more.
    await actions.begin(
      {
        id,
        tenantId: session.tenant!.id,
        taskId: started.id,
        userId: session.user.id,
        connectionId: connection.id,
        capabilityId: claims.id,
        type: 'gmail.messages.search',
        class: 'read',
        idempotencyKey: `key-${randomUUID()}`,
        requestKey: 'a request',
        params: { query: '' },
        rationale: 'It was running when the lights went out.',
        status: 'executing',
        policy: { effect: 'allow', policyId: 'default-allow-reads', reason: 'reads' },
      },
      audit.within({
        tenantId: session.tenant!.id,
        name: 'action.requested',
        actor: { type: 'agent', id: started.id },
        outcome: 'pending',
        data: { actionId: id },
      }),
    );
    const executor = fixture.gateway.app.get(ActionExecutor);
    expect(await executor.failStale()).toBe(0);
    expect(await executor.failStale(new Date(Date.now() + 11 * 60_000))).toBe(1);
    const status = await agent.request(getAction, { capability, actionId: id });
    expect(status.status).toBe('failed');
    expect(status.error?.message).toContain('whether it took effect is unknown');
    const names = (await fixture.auditEvents())
      .filter((e) => e.event.data.actionId === id)
      .map((e) => e.event.name);
    expect(names).toEqual(['action.requested', 'action.outcome_unknown']);
  });

  it('refuses a capability of a person no longer a member', async () => {
    const owner = await task();
    const email = person('member').email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role: 'member' })
    ).json()) as { token: string };
    const member = await fixture.signIn(
      { sub: `sub-${email}`, email, name: 'M' },
      { invitation: token },
    );
    const started = (await (
      await fixture.call(member.browser, 'POST', '/v1/tasks', {
        title: 'x',
        actions: ['gmail.messages.search'],
      })
    ).json()) as { capability: string };
    await fixture.call(owner.browser, 'DELETE', `/v1/tenant/members/${member.session.user.id}`);
    expect(
      await codeOf(
        agent.request(executeAction, request(started.capability, 'gmail.messages.search', {})),
      ),
    ).toBe('CAPABILITY_REVOKED');
  });
});

describe('the HTTP rate limit', () => {
  let fixture: GatewayFixture;
  let agent: ContractClient;

  beforeAll(async () => {
    fixture = await startGatewayFixture({ HTTP_RATE_LIMIT_PER_MINUTE: '5' });
    agent = ContractClient.create(natsEnvSchema.parse({ NATS_URL: fixture.nats.url }), 'agent');
    await agent.connect();
  });
  afterAll(async () => {
    await agent?.close();
    await fixture?.close();
  });

  it('does not apply to the agent’s requests over NATS', async () => {
    const { browser } = await fixture.signIn(person('limited'));
    const { capability } = (await (
      await fixture.call(browser, 'POST', '/v1/tasks', {
        title: 'x',
        actions: ['calendar.freebusy'],
      })
    ).json()) as { capability: string };
    const codes = await Promise.all(
      Array.from({ length: 12 }, async () => {
        try {
          await agent.request(executeAction, {
            capability,
            action: 'calendar.freebusy',
            params: {
              timeMin: '2026-11-26T00:00:00Z',
              timeMax: '2026-11-27T00:00:00Z',
            },
            idempotencyKey: `key-${randomUUID()}`,
            rationale: 'Checking the calendar.',
          });
          return 'OK';
        } catch (error) {
          return error instanceof ContractError ? error.code : 'THROWN';
        }
      }),
    );
    // No connected account on this task: each is refused by the gateway's own rules, none by a rate limit.
    expect(new Set(codes)).toEqual(new Set(['ACTION_NOT_ALLOWED']));
  });
});
