import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ReplayableAction } from '../actions/action-replay.repository.js';
import { PolicyEngine } from './policy-engine.js';
import { NOT_A_MEMBER_POLICY_ID, replayAction, summarise } from './policy-replay.js';

const engine = new PolicyEngine();

const NO_COUNTS = {
  lastHour: 0,
  lastDay: 0,
  sameActionLastHour: 0,
  spentTodayMinor: 0,
  taskActions: 0,
  taskSpentMinor: 0,
};

function row(overrides: Partial<ReplayableAction> = {}): ReplayableAction {
  return {
    id: randomUUID(),
    taskId: randomUUID(),
    userId: randomUUID(),
    type: 'gmail.messages.send',
    class: 'irreversible',
    status: 'pending_approval',
    params: { to: ['Ada@Rival.example'], cc: [], bcc: [], subject: 'Hi', body: 'Hello' },
    policy: {
      effect: 'require_approval',
      policyId: 'default-approve-irreversible',
      reason: 'This cannot be undone, so a person must approve it.',
    },
    untrusted: [],
    createdAt: new Date('2026-03-02T09:30:00Z'),
    grant: {
      actions: ['gmail.messages.send', 'gmail.messages.search', 'purchase.create'],
      limits: { spend: { maxMinor: 1_000_000, currency: 'EUR' } },
      connectionId: randomUUID(),
    },
    counts: { ...NO_COUNTS },
    ...overrides,
  };
}

const texts = (proposed: string, current = '') => ({ tenantId: randomUUID(), current, proposed });

const SENDS_FREELY = `@id("sends-freely") permit (principal, action == HeroAgent::Action::"gmail.messages.send", resource);`;

describe('replaying an action under two policies', () => {
  it("decides from the stored parameters' facts, at the time the action was asked", () => {
    const mornings = `@id("mornings-only") @reason("Only before ten.")
      forbid (principal, action, resource) when { context.hour >= 10 };`;
    const early = replayAction(row(), 'owner', texts(mornings), engine);
    expect(early.facts).toEqual({
      recipients: ['ada@rival.example'],
      recipientDomains: ['rival.example'],
      calendarId: null,
      amount: null,
    });
    expect(early.changed).toBe(false);
    const late = replayAction(
      row({ createdAt: new Date('2026-03-02T10:30:00Z') }),
      'owner',
      texts(mornings),
      engine,
    );
    expect(late.proposed).toEqual({
      effect: 'deny',
      policyId: 'mornings-only',
      reason: 'Only before ten.',
    });
    expect(late.changed).toBe(true);
  });

  it('uses the counts as of the action, and the role the person has', () => {
    const spend = `@id("daily-budget") forbid (principal, action, resource)
      when { context.hasAmount && context.spentTodayMinor + context.amountMinor > 10000 };
      @id("members-no-purchases") forbid (principal, action in HeroAgent::Action::"purchase", resource)
      when { principal.role == "member" };`;
    const purchase = (spentTodayMinor: number) =>
      row({
        type: 'purchase.create',
        params: { merchant: 'books', item: 'SICP', amountMinor: 4_000, currency: 'EUR' },
        counts: { ...NO_COUNTS, spentTodayMinor },
      });
    expect(replayAction(purchase(1_000), 'owner', texts(spend), engine).proposed.effect).toBe(
      'require_approval',
    );
    expect(replayAction(purchase(7_000), 'owner', texts(spend), engine).proposed).toMatchObject({
      effect: 'deny',
      policyId: 'daily-budget',
    });
    expect(replayAction(purchase(0), 'member', texts(spend), engine).proposed).toMatchObject({
      effect: 'deny',
      policyId: 'members-no-purchases',
    });
  });

  it('keeps an action with values not from the person held for approval, unless denied', () => {
    const untrusted = [{ param: 'to', why: 'first seen in a mail from ada@rival.example' }];
    const held = {
      effect: 'require_approval',
      policyId: 'untrusted-input',
      reason:
        'Not from you: to (first seen in a mail from ada@rival.example). A person must approve.',
    };
    const replayed = replayAction(
      row({ policy: held, untrusted }),
      'owner',
      texts(SENDS_FREELY, SENDS_FREELY),
      engine,
    );
    expect(replayed.current).toEqual(held);
    expect(replayed.proposed).toEqual(held);
    const forbidden = `@id("no-mail") forbid (principal, action, resource);`;
    expect(
      replayAction(row({ policy: held, untrusted }), 'owner', texts(forbidden), engine).proposed,
    ).toMatchObject({
      effect: 'deny',
      policyId: 'no-mail',
    });
  });

  it("checks the task's own limits first, as the gateway does, counting the task's other actions as of then", () => {
    const limited = (taskActions: number) =>
      row({
        grant: {
          actions: ['gmail.messages.send'],
          limits: { maxActions: 3 },
          connectionId: randomUUID(),
        },
        counts: { ...NO_COUNTS, taskActions },
      });
    expect(replayAction(limited(2), 'owner', texts(SENDS_FREELY), engine).proposed.effect).toBe(
      'allow',
    );
    expect(replayAction(limited(3), 'owner', texts(SENDS_FREELY), engine).proposed).toEqual({
      effect: 'deny',
      policyId: 'capability-limits',
      reason: 'Refused before any policy: the task may take at most 3 actions.',
    });
  });

  it('refuses the actions of someone who left, and actions whose parameters no longer fit, under both', () => {
    const left = replayAction(row(), undefined, texts(SENDS_FREELY), engine);
    expect(left.current.policyId).toBe(NOT_A_MEMBER_POLICY_ID);
    expect(left.proposed).toEqual(left.current);
    expect(left.changed).toBe(false);
    const stale = replayAction(
      row({ params: { to: 'nobody' } }),
      'owner',
      texts(SENDS_FREELY),
      engine,
    );
    expect(stale.current).toMatchObject({ effect: 'deny', policyId: 'invalid-request' });
    expect(stale.changed).toBe(false);
    const unknown = replayAction(row({ type: 'gmail.messages.nuke' }), 'owner', texts(''), engine);
    expect(unknown.current).toMatchObject({ effect: 'deny', policyId: 'unknown-action' });
  });

  it('reads an unreadable recorded decision as null', () => {
    expect(
      replayAction(row({ policy: { effect: 'maybe' } }), 'owner', texts(''), engine).recorded,
    ).toBeNull();
  });
});

describe('summarising a replay', () => {
  it('counts effects on each side and transitions, most frequent first', () => {
    const results = [
      replayAction(row(), 'owner', texts(SENDS_FREELY), engine),
      replayAction(row(), 'owner', texts(SENDS_FREELY), engine),
      replayAction(
        row({ type: 'gmail.messages.search', class: 'read', params: { query: 'x' } }),
        'owner',
        texts(SENDS_FREELY),
        engine,
      ),
    ];
    expect(summarise(results)).toEqual({
      current: { allow: 1, deny: 0, require_approval: 2 },
      proposed: { allow: 3, deny: 0, require_approval: 0 },
      transitions: [
        { from: 'require_approval', to: 'allow', count: 2, changed: 2 },
        { from: 'allow', to: 'allow', count: 1, changed: 0 },
      ],
    });
    expect(summarise([])).toEqual({
      current: { allow: 0, deny: 0, require_approval: 0 },
      proposed: { allow: 0, deny: 0, require_approval: 0 },
      transitions: [],
    });
  });
});
