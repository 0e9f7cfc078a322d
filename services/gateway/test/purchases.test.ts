import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeAction, getAction, type RpcResponse } from '@heroagent/contracts';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { MerchantDouble } from '@heroagent/doubles';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { codeOf, person } from './support/people.js';

/** Purchases: always within the task's spend limit, always approved (by two people when large). */
describe('purchases through a merchant connector', () => {
  let merchant: MerchantDouble;
  let fixture: GatewayFixture;
  let agent: ContractClient;
  let admin: Kysely<unknown>;

  async function setUp(
    limits: Record<string, unknown> = { spend: { maxMinor: 50_000, currency: 'EUR' } },
  ) {
    const owner = await fixture.signIn(person('owner'));
    const email = person('admin').email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role: 'admin' })
    ).json()) as { token: string };
    const admin = await fixture.signIn(
      { sub: `sub-${email}`, email, name: 'Admin' },
      { invitation: token },
    );
    const started = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tasks', {
        title: 'Buy books',
        actions: ['purchase.create'],
        limits,
      })
    ).json()) as { capability: string };
    return { owner, admin, capability: started.capability };
  }

  const buy = (capability: string, amountMinor: number, extra: Record<string, unknown> = {}) =>
    agent.request(executeAction, {
      capability,
      action: 'purchase.create',
      params: {
        merchant: 'books',
        item: 'Structure and Interpretation of Computer Programs',
        amountMinor,
        currency: 'EUR',
        ...extra,
      },
      idempotencyKey: `key-${randomUUID()}`,
      rationale: 'The team asked for the book.',
    });

  const pending = (answer: RpcResponse<typeof executeAction>) => {
    if (answer.status !== 'pending_approval')
      throw new Error(`expected pending, got ${answer.status}`);
    return answer;
  };

  beforeAll(async () => {
    merchant = await MerchantDouble.start();
    fixture = await startGatewayFixture({
      MERCHANTS: JSON.stringify([{ id: 'books', url: merchant.url, apiKey: merchant.apiKey }]),
    });
    agent = ContractClient.create(natsEnvSchema.parse({ NATS_URL: fixture.nats.url }), 'agent');
    await agent.connect();
    admin = createDatabase<unknown>({
      connectionString: fixture.database.adminUrl,
      applicationName: 'purchases-test',
    });
  });
  afterAll(async () => {
    await admin?.destroy();
    await agent?.close();
    await fixture?.close();
    await merchant?.close();
  });

  it('buys once a person approves, once, with the action as the idempotency key', async () => {
    const { owner, capability } = await setUp();
    const answer = pending(await buy(capability, 4_599));
    expect(merchant.orders).toHaveLength(0);
    const approved = await fixture.call(
      owner.browser,
      'POST',
      `/v1/approvals/${answer.approvalId}/approve`,
      {},
    );
    const body = (await approved.json()) as {
      outcome: { status: string; result: { orderId: string } };
    };
    expect(body.outcome.status).toBe('completed');
    const order = merchant.orders.find((o) => o.id === body.outcome.result.orderId);
    expect(order).toMatchObject({
      amountMinor: 4_599,
      currency: 'EUR',
      idempotencyKey: answer.actionId,
    });
  });

  it('needs two different people over the threshold', async () => {
    const { owner, admin, capability } = await setUp();
    const answer = pending(await buy(capability, 25_000));
    const before = merchant.orders.length;
    await fixture.call(owner.browser, 'POST', `/v1/approvals/${answer.approvalId}/approve`, {});
    expect(merchant.orders.length).toBe(before);
    const second = await fixture.call(
      admin.browser,
      'POST',
      `/v1/approvals/${answer.approvalId}/approve`,
      {},
    );
    expect(((await second.json()) as { status: string }).status).toBe('approved');
    expect(merchant.orders.length).toBe(before + 1);
  });

  it('holds the task to its spend limit and currency, counting what waits for approval', async () => {
    const { capability } = await setUp({ spend: { maxMinor: 10_000, currency: 'EUR' } });
    pending(await buy(capability, 6_000));
    expect(await codeOf(buy(capability, 6_000))).toBe('ACTION_NOT_ALLOWED');
    expect(await codeOf(buy(capability, 1_000, { currency: 'USD' }))).toBe('ACTION_NOT_ALLOWED');
    const { capability: unlimited } = await setUp({});
    expect(await codeOf(buy(unlimited, 100))).toBe('ACTION_NOT_ALLOWED');
  });

  it('answers a retry with its first outcome even when that outcome used up the limit', async () => {
    const { capability } = await setUp({
      spend: { maxMinor: 5_000, currency: 'EUR' },
      maxActions: 1,
    });
    const key = `key-${randomUUID()}`;
    const request = {
      capability,
      action: 'purchase.create',
      params: {
        merchant: 'books',
        item: 'One book',
        amountMinor: 5_000,
        currency: 'EUR',
      } as unknown as Record<string, never>,
      idempotencyKey: key,
      rationale: 'One book.',
    };
    const first = pending(await agent.request(executeAction, request));
    const retried = pending(await agent.request(executeAction, request));
    expect(retried.actionId).toBe(first.actionId);
    // A different request is held to the limit.
    expect(await codeOf(buy(capability, 1))).toBe('ACTION_NOT_ALLOWED');
  });

  it('records a declined payment as a failed action, and a purchase cannot be undone', async () => {
    const { owner, capability } = await setUp();
    const answer = pending(await buy(capability, 1_234));
    merchant.declineNext = true;
    const approved = await fixture.call(
      owner.browser,
      'POST',
      `/v1/approvals/${answer.approvalId}/approve`,
      {},
    );
    expect(approved.status).toBe(502);
    const refused = (await approved.json()) as { code: string; message: string };
    expect(refused.code).toBe('UPSTREAM_FAILED');
    // At rest, the error's code stays in clear and the merchant's words are sealed; the agent
    // reads them back opened.
    const stored = await sql<{ error: unknown }>`
      select error from gateway.actions where id = ${answer.actionId}`.execute(admin);
    expect(stored.rows[0]!.error).toEqual({
      code: 'UPSTREAM_FAILED',
      sealed: expect.stringMatching(/^hae1\./) as string,
    });
    const read = await agent.request(getAction, { capability, actionId: answer.actionId });
    expect(read.error).toEqual({ code: 'UPSTREAM_FAILED', message: refused.message });
    const bought = pending(await buy(capability, 999));
    await fixture.call(owner.browser, 'POST', `/v1/approvals/${bought.approvalId}/approve`, {});
    const undo = await fixture.call(owner.browser, 'POST', `/v1/actions/${bought.actionId}/undo`);
    expect(undo.status).toBe(409);
    expect(await undo.json()).toMatchObject({
      message:
        'this action cannot be undone: a purchase cannot be taken back by HeroAgent; refunds are the merchant’s',
    });
  });
});
