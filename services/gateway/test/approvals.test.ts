import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeAction, getAction, type RpcResponse } from '@heroagent/contracts';
import type { TestBrowser } from '@heroagent/doubles';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import { ApprovalsService } from '../src/approvals/approvals.service.js';
import { leavesTheApi, startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { person } from './support/people.js';

interface ApprovalView {
  id: string;
  userId: string;
  actionId: string;
  action: string;
  status: string;
  required: number;
  params: Record<string, unknown>;
  rationale: string;
  reason: string;
  policyId: string;
  undo: string;
  outcome?: { status: string; result?: unknown };
}

const PURCHASE = {
  merchant: 'books',
  item: 'SICP',
  amountMinor: 25_000,
  currency: 'EUR',
} as unknown as Record<string, never>;

/** With the default policy, writes wait for a person's approval. */
describe('approvals', () => {
  let fixture: GatewayFixture;
  let agent: ContractClient;

  async function setUp(actions = ['gmail.drafts.create', 'purchase.create']) {
    const owner = await fixture.signIn(person('owner'));
    const acct = person('mailbox');
    fixture.provider.nextUser(acct);
    await owner.browser.follow(
      `${fixture.origin}/v1/connections/google/start?scopes=gmail.read,gmail.modify`,
      leavesTheApi(fixture.origin),
    );
    const connection = [...fixture.vault.connections.values()].find(
      (c) => c.account === acct.email,
    )!;
    const started = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tasks', {
        title: 'Drafts and shopping',
        actions,
        connectionId: connection.id,
        limits: { spend: { maxMinor: 100_000, currency: 'EUR' } },
      })
    ).json()) as { task: { id: string }; capability: string };
    return { ...owner, ...started, account: acct.email };
  }

  const draft = (capability: string, subject = 'Hello', key = `key-${randomUUID()}`) =>
    agent.request(executeAction, {
      capability,
      action: 'gmail.drafts.create',
      params: { to: ['ada@corp.example'], subject, body: 'Body' },
      idempotencyKey: key,
      rationale: 'The person asked me to write to Ada.',
    });

  const buy = (capability: string) =>
    agent.request(executeAction, {
      capability,
      action: 'purchase.create',
      params: PURCHASE,
      idempotencyKey: `key-${randomUUID()}`,
      rationale: 'The team needs the book.',
    });

  const pending = (answer: RpcResponse<typeof executeAction>) => {
    if (answer.status !== 'pending_approval')
      throw new Error(`expected pending, got ${answer.status}`);
    return answer;
  };

  const approvals = async (browser: TestBrowser, status = 'pending') =>
    (
      (await (await fixture.call(browser, 'GET', `/v1/approvals?status=${status}`)).json()) as {
        approvals: ApprovalView[];
      }
    ).approvals;

  beforeAll(async () => {
    fixture = await startGatewayFixture();
    agent = ContractClient.create(natsEnvSchema.parse({ NATS_URL: fixture.nats.url }), 'agent');
    await agent.connect();
  });
  afterAll(async () => {
    await agent?.close();
    await fixture?.close();
  });

  it('holds a write for approval, shows exactly what it is, and runs it once approved', async () => {
    const { browser, capability, account } = await setUp();
    const before = fixture.gmail.callCount('gmail.users.drafts.create');
    const answer = pending(await draft(capability));
    expect(fixture.gmail.callCount('gmail.users.drafts.create')).toBe(before);
    const [shown] = await approvals(browser);
    expect(shown).toMatchObject({
      id: answer.approvalId,
      actionId: answer.actionId,
      action: 'gmail.drafts.create',
      status: 'pending',
      required: 1,
      params: { to: ['ada@corp.example'], subject: 'Hello' },
      rationale: 'The person asked me to write to Ada.',
      policyId: 'default-approve-writes',
      undo: 'deletes the draft',
    });
    // The agent asks again (a retry): the same pending approval, not a second one.
    const key = `key-${randomUUID()}`;
    const first = pending(await draft(capability, 'Again', key));
    const retried = pending(await draft(capability, 'Again', key));
    expect(retried.approvalId).toBe(first.approvalId);

    const approved = await fixture.call(
      browser,
      'POST',
      `/v1/approvals/${answer.approvalId}/approve`,
      {
        note: 'fine',
      },
    );
    expect(approved.status).toBe(200);
    const body = (await approved.json()) as ApprovalView;
    expect(body.status).toBe('approved');
    expect(body.outcome).toMatchObject({ status: 'completed' });
    expect(fixture.gmail.callCount('gmail.users.drafts.create')).toBe(before + 1);
    // Approving again never acts again.
    await fixture.call(browser, 'POST', `/v1/approvals/${answer.approvalId}/approve`, {});
    expect(fixture.gmail.callCount('gmail.users.drafts.create')).toBe(before + 1);
    // The agent learns the outcome.
    const status = await agent.request(getAction, { capability, actionId: answer.actionId });
    expect(status).toMatchObject({ status: 'completed', approval: { status: 'approved' } });
    // Its record explains it: what the agent said, which policy held it, who approved.
    const executed = (await fixture.openedAuditEvents()).find(
      (e) => e.event.name === 'action.executed' && e.event.data.actionId === answer.actionId,
    )!;
    expect(executed.event).toMatchObject({
      rationale: 'The person asked me to write to Ada.',
      policy: { effect: 'require_approval', policyId: 'default-approve-writes' },
    });
    expect(executed.event.data.approvalId).toBe(answer.approvalId);
    expect(executed.event.data.approvedBy).toEqual([shown!.userId]);
    expect(account).toBeTruthy();
  });

  it('keeps several pending approvals of one task apart: one denied, one approved', async () => {
    const { browser, capability } = await setUp();
    const one = pending(await draft(capability, 'One'));
    const two = pending(await draft(capability, 'Two'));
    expect(one.approvalId).not.toBe(two.approvalId);
    const denied = await fixture.call(browser, 'POST', `/v1/approvals/${one.approvalId}/deny`, {
      note: 'not this one',
    });
    expect(((await denied.json()) as ApprovalView).status).toBe('denied');
    expect(
      (await fixture.call(browser, 'POST', `/v1/approvals/${two.approvalId}/approve`, {})).status,
    ).toBe(200);
    expect(await agent.request(getAction, { capability, actionId: one.actionId })).toMatchObject({
      status: 'rejected',
    });
    expect(await agent.request(getAction, { capability, actionId: two.actionId })).toMatchObject({
      status: 'completed',
    });
    const late = await fixture.call(browser, 'POST', `/v1/approvals/${one.approvalId}/approve`, {});
    expect(late.status).toBe(409);
  });

  it('runs an action once when two people approve it at the same moment', async () => {
    const owner = await setUp();
    const email = person('admin').email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role: 'admin' })
    ).json()) as { token: string };
    const admin = await fixture.signIn(
      { sub: `sub-${email}`, email, name: 'A' },
      { invitation: token },
    );
    const answer = pending(await draft(owner.capability, 'Race'));
    const before = fixture.gmail.callCount('gmail.users.drafts.create');
    const results = await Promise.all([
      fixture.call(owner.browser, 'POST', `/v1/approvals/${answer.approvalId}/approve`, {}),
      fixture.call(admin.browser, 'POST', `/v1/approvals/${answer.approvalId}/approve`, {}),
    ]);
    // The first approval runs it; the second either finds it decided (409) or finds it already
    // approved and reports the outcome (200) — never a second run.
    const statuses = results.map((r) => r.status);
    expect(statuses).toContain(200);
    for (const status of statuses) expect([200, 409]).toContain(status);
    expect(fixture.gmail.callCount('gmail.users.drafts.create')).toBe(before + 1);
  });

  it('needs a second, different person for a purchase over the threshold', async () => {
    const owner = await setUp();
    const answer = pending(await buy(owner.capability));
    const [shown] = await approvals(owner.browser);
    expect(shown).toMatchObject({ required: 2, policyId: 'default-approve-irreversible' });
    expect(shown!.undo).toMatch(/^cannot be undone/);
    const first = await fixture.call(
      owner.browser,
      'POST',
      `/v1/approvals/${answer.approvalId}/approve`,
      {},
    );
    expect(((await first.json()) as ApprovalView).status).toBe('pending');
    const again = await fixture.call(
      owner.browser,
      'POST',
      `/v1/approvals/${answer.approvalId}/approve`,
      {},
    );
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      message: 'you have already decided; another person must',
    });
  });

  it('keeps an approver’s note under their own key: it is erased with them, not with the action', async () => {
    const owner = await setUp();
    const answer = pending(await buy(owner.capability));
    const email = person('approver').email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role: 'admin' })
    ).json()) as { token: string };
    const admin = await fixture.signIn(
      { sub: `sub-${email}`, email, name: 'Approver' },
      { invitation: token },
    );
    const approved = await fixture.call(
      admin.browser,
      'POST',
      `/v1/approvals/${answer.approvalId}/approve`,
      { note: 'Checked the price with finance' },
    );
    expect(((await approved.json()) as ApprovalView).status).toBe('pending');
    const noteOf = async () =>
      ((await approvals(owner.browser)).find((shown) => shown.id === answer.approvalId) as
        (ApprovalView & { decisions: { note: string }[] }) | undefined)!.decisions[0]!.note;
    expect(await noteOf()).toBe('Checked the price with finance');
    const removed = await fixture.call(
      owner.browser,
      'DELETE',
      `/v1/tenant/members/${admin.session.user.id}`,
    );
    expect(removed.status).toBe(204);
    // The approval and the action stay the owner's; the approver's words went with them.
    expect(await noteOf()).toBe('[erased]');
    expect(
      await agent.request(getAction, { capability: owner.capability, actionId: answer.actionId }),
    ).toMatchObject({
      status: 'pending_approval',
    });
  });

  it('expires approvals nobody decided in time, and records it', async () => {
    const { browser, capability, session } = await setUp();
    const answer = pending(await draft(capability, 'Too late'));
    const service = fixture.gateway.app.get(ApprovalsService);
    expect(await service.expire(new Date(Date.now() + 2 * 86_400_000))).toBeGreaterThan(0);
    const late = await fixture.call(
      browser,
      'POST',
      `/v1/approvals/${answer.approvalId}/approve`,
      {},
    );
    expect(late.status).toBe(409);
    expect(await agent.request(getAction, { capability, actionId: answer.actionId })).toMatchObject(
      {
        status: 'expired',
      },
    );
    const events = (await fixture.auditEvents()).filter(
      (e) => e.event.tenantId === session.tenant!.id && e.event.name === 'approval.expired',
    );
    expect(events.map((e) => e.event.data.actionId)).toContain(answer.actionId);
  });

  it('cancels what waits for approval when its task is stopped: approving it then runs nothing', async () => {
    const { browser, capability, task } = await setUp();
    const answer = pending(await draft(capability, 'Stopped'));
    await fixture.call(browser, 'POST', `/v1/tasks/${task.id}/stop`, {});
    const shown = (await approvals(browser, 'all')).find((a) => a.id === answer.approvalId);
    expect(shown).toMatchObject({ status: 'cancelled' });
    const before = fixture.gmail.callCount('gmail.users.drafts.create');
    const approved = await fixture.call(
      browser,
      'POST',
      `/v1/approvals/${answer.approvalId}/approve`,
      {},
    );
    expect(approved.status).toBe(409);
    expect(await approved.json()).toMatchObject({
      code: 'CONFLICT',
      message: 'the approval is already cancelled',
    });
    expect(fixture.gmail.callCount('gmail.users.drafts.create')).toBe(before);
    const cancelled = (await fixture.auditEvents()).find(
      (e) => e.event.name === 'action.cancelled' && e.event.data.actionId === answer.actionId,
    );
    expect(cancelled?.event).toMatchObject({
      actor: { type: 'user' },
      outcome: 'failure',
      data: { code: 'CAPABILITY_REVOKED' },
    });
    // The reason travels sealed (it may quote a policy's reason naming someone).
    expect(cancelled?.event.data.reason).toBeUndefined();
    expect(cancelled?.event.personal).toBeDefined();
  });

  it('shows a member only the approvals of their own tasks', async () => {
    const owner = await setUp();
    pending(await draft(owner.capability, 'Private'));
    const email = person('member').email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role: 'member' })
    ).json()) as { token: string };
    const member = await fixture.signIn(
      { sub: `sub-${email}`, email, name: 'M' },
      { invitation: token },
    );
    expect(await approvals(member.browser)).toEqual([]);
    const [theirs] = await approvals(owner.browser);
    const refused = await fixture.call(
      member.browser,
      'POST',
      `/v1/approvals/${theirs!.id}/approve`,
      {},
    );
    expect(refused.status).toBe(404);
  });
});
