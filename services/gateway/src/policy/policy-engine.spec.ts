import { ACTION_CATALOG, actionDefinition, type ActionFacts } from '@heroagent/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES, PolicyEngine, type PolicyRequest } from './policy-engine.js';

const engine = new PolicyEngine();

/** Facts exactly as the gateway computes them: the catalog's own facts(params). */
function factsOf(type: string, params: unknown): ActionFacts {
  const definition = actionDefinition(type)!;
  return definition.facts(definition.params.parse(params));
}

const NO_FACTS: ActionFacts = { recipients: [], recipientDomains: [] };

function request(action: string, overrides: Partial<PolicyRequest> = {}): PolicyRequest {
  return {
    tenantId: 'tenant-1',
    principal: { userId: 'user-1', role: 'owner' },
    action,
    taskId: 'task-1',
    facts: NO_FACTS,
    now: new Date('2026-01-15T10:00:00Z'), // a Thursday
    recentActions: { lastHour: 0, lastDay: 0, sameActionLastHour: 0 },
    ...overrides,
  };
}

function send(to: string[], overrides: Partial<PolicyRequest> = {}): PolicyRequest {
  const facts = factsOf('gmail.messages.send', { to, subject: 'Hello', body: 'Hi' });
  return request('gmail.messages.send', { facts, ...overrides });
}

function buy(amountMinor: number, overrides: Partial<PolicyRequest> = {}): PolicyRequest {
  const facts = factsOf('purchase.create', {
    merchant: 'books',
    item: 'A book',
    amountMinor,
    currency: 'EUR',
  });
  return request('purchase.create', { facts, ...overrides });
}

function createEvent(calendarId: string): PolicyRequest {
  const facts = factsOf('calendar.events.create', {
    calendarId,
    summary: 'Sync',
    start: { dateTime: '2026-01-16T09:00:00Z' },
    end: { dateTime: '2026-01-16T09:30:00Z' },
    attendees: ['bob@corp.example'],
  });
  return request('calendar.events.create', { facts });
}

describe('PolicyEngine: the default policies', () => {
  it('allows reads', () => {
    expect(engine.decide(request('gmail.messages.search'), '')).toEqual({
      effect: 'allow',
      policyId: 'default-allow-reads',
      reason: 'Reading changes nothing, so reads are allowed.',
    });
  });

  it('asks for approval of reversible writes', () => {
    expect(engine.decide(createEvent('primary'), '')).toEqual({
      effect: 'require_approval',
      policyId: 'default-approve-writes',
      reason: "Changes need a person's approval until an admin allows them without it.",
    });
  });

  it('asks for approval of irreversible actions', () => {
    for (const action of [send(['bob@corp.example']), buy(1000)]) {
      expect(engine.decide(action, '')).toEqual({
        effect: 'require_approval',
        policyId: 'default-approve-irreversible',
        reason: 'This cannot be undone, so a person must approve it.',
      });
    }
  });

  it('covers every catalog action by its class', () => {
    for (const definition of Object.values(ACTION_CATALOG)) {
      const decision = engine.decide(request(definition.type), '');
      const expected = {
        read: { effect: 'allow', policyId: 'default-allow-reads' },
        reversible: { effect: 'require_approval', policyId: 'default-approve-writes' },
        irreversible: { effect: 'require_approval', policyId: 'default-approve-irreversible' },
      }[definition.class];
      expect(decision, definition.type).toMatchObject(expected);
    }
  });

  it('stops a runaway agent after 1000 actions in a day, reads included', () => {
    const busy = (lastDay: number) => ({
      recentActions: { lastHour: 0, lastDay, sameActionLastHour: 0 },
    });
    expect(engine.decide(request('gmail.messages.search', busy(999)), '').effect).toBe('allow');
    expect(engine.decide(request('gmail.messages.search', busy(1000)), '')).toEqual({
      effect: 'deny',
      policyId: 'default-runaway-guard',
      reason: 'More than 1000 actions in a day: the agent looks out of control, so it is stopped.',
    });
    const tenant = `@id("allow-everything") permit (principal, action, resource);`;
    expect(engine.decide(send(['a@corp.example'], busy(1000)), tenant).policyId).toBe(
      'default-runaway-guard',
    );
  });

  it('can be replaced by other defaults', () => {
    const strict = new PolicyEngine({
      defaults: `@id("only-reads") @reason("Reads only.") permit (principal, action in HeroAgent::Action::"read", resource);`,
    });
    expect(strict.decide(request('gmail.messages.read'), '').policyId).toBe('only-reads');
    expect(strict.decide(send(['a@corp.example']), '')).toEqual({
      effect: 'deny',
      policyId: 'default-deny',
      reason: 'no policy allows this',
    });
  });

  it('refuses invalid defaults when constructed', () => {
    expect(() => new PolicyEngine({ defaults: 'permit (principal, action, resource);' })).toThrow(
      /missing-id/,
    );
  });

  it('keeps DEFAULT_POLICIES in the reserved id space', () => {
    expect(PolicyEngine.check(DEFAULT_POLICIES)).toMatchObject({ ok: false });
  });
});

describe('PolicyEngine: tenant policies', () => {
  it('lets mail go to corp.example without approval and forbids it anywhere else', () => {
    const tenant = `
      @id("send-within-corp")
      @reason("Mail to colleagues at corp.example needs no approval.")
      permit (principal, action == HeroAgent::Action::"gmail.messages.send", resource)
      when { ["corp.example"].containsAll(context.recipientDomains) };

      @id("send-outside-corp")
      @reason("Mail may only go to corp.example.")
      forbid (principal, action in HeroAgent::Action::"gmail", resource)
      unless { ["corp.example"].containsAll(context.recipientDomains) };
    `;
    expect(engine.decide(send(['bob@corp.example', 'eve@Corp.Example']), tenant)).toEqual({
      effect: 'allow',
      policyId: 'send-within-corp',
      reason: 'Mail to colleagues at corp.example needs no approval.',
    });
    expect(engine.decide(send(['bob@corp.example', 'x@gmail.com']), tenant)).toEqual({
      effect: 'deny',
      policyId: 'send-outside-corp',
      reason: 'Mail may only go to corp.example.',
    });
    // The forbid covers drafts too (family group); drafts to corp still need approval.
    const draft = (to: string) =>
      request('gmail.drafts.create', {
        facts: factsOf('gmail.drafts.create', { to: [to], subject: 's', body: 'b' }),
      });
    expect(engine.decide(draft('x@gmail.com'), tenant).policyId).toBe('send-outside-corp');
    expect(engine.decide(draft('bob@corp.example'), tenant).policyId).toBe(
      'default-approve-writes',
    );
  });

  it('denies purchases over an amount', () => {
    const tenant = `
      @id("purchase-limit")
      @reason("Purchases over 500 EUR are not allowed.")
      forbid (principal, action == HeroAgent::Action::"purchase.create", resource)
      when { context.currency == "EUR" && context.amountMinor > 50000 };
    `;
    expect(engine.decide(buy(50001), tenant)).toMatchObject({
      effect: 'deny',
      policyId: 'purchase-limit',
    });
    expect(engine.decide(buy(50000), tenant)).toMatchObject({
      effect: 'require_approval',
      policyId: 'default-approve-irreversible',
    });
  });

  it('caps spend per day', () => {
    const tenant = `
      @id("daily-spend-cap")
      @reason("No more than 1000 EUR a day.")
      forbid (principal, action, resource)
      when { context.hasAmount && context.spentTodayMinor + context.amountMinor > 100000 };

      @id("small-purchases")
      @reason("Purchases within the daily cap need no approval.")
      permit (principal, action in HeroAgent::Action::"purchase", resource);
    `;
    expect(engine.decide(buy(20000, { spentTodayMinor: 90000 }), tenant)).toEqual({
      effect: 'deny',
      policyId: 'daily-spend-cap',
      reason: 'No more than 1000 EUR a day.',
    });
    expect(engine.decide(buy(20000, { spentTodayMinor: 80000 }), tenant)).toMatchObject({
      effect: 'allow',
      policyId: 'small-purchases',
    });
    expect(engine.decide(buy(20000), tenant).effect).toBe('allow');
  });

  it('asks for approval on calendars other than the primary one', () => {
    const tenant = `
      @id("primary-calendar-writes")
      @reason("The user's own calendar may be changed without approval.")
      permit (principal, action in HeroAgent::Action::"calendar", resource)
      when { context.class == "reversible" && context.calendarId == "primary" };

      @id("other-calendars-need-approval")
      @reason("Shared calendars are changed only with approval.")
      @approval("required")
      permit (principal, action in HeroAgent::Action::"calendar", resource)
      when { context.calendarId != "primary" };
    `;
    expect(engine.decide(createEvent('primary'), tenant)).toMatchObject({
      effect: 'allow',
      policyId: 'primary-calendar-writes',
    });
    // Tenant policies are reported before the defaults that also ask for approval.
    expect(engine.decide(createEvent('team@group.calendar.google.com'), tenant)).toEqual({
      effect: 'require_approval',
      policyId: 'other-calendars-need-approval',
      reason: 'Shared calendars are changed only with approval.',
    });
  });

  it('forbids sends outside 8-18 in Europe/Paris', () => {
    const tenant = `
      @id("office-hours")
      @reason("Mail is sent only between 8:00 and 18:00, Paris time.")
      forbid (principal, action == HeroAgent::Action::"gmail.messages.send", resource)
      when { context.hour < 8 || context.hour >= 18 };

      @id("weekdays-only")
      @reason("Mail is not sent at weekends.")
      forbid (principal, action == HeroAgent::Action::"gmail.messages.send", resource)
      when { context.weekday >= 6 };

      @id("send-freely")
      permit (principal, action == HeroAgent::Action::"gmail.messages.send", resource);
    `;
    const at = (iso: string, timeZone = 'Europe/Paris') =>
      engine.decide(send(['bob@corp.example'], { now: new Date(iso), timeZone }), tenant);
    expect(at('2026-01-15T06:59:00Z')).toMatchObject({ effect: 'deny', policyId: 'office-hours' }); // 07:59 CET
    expect(at('2026-01-15T07:00:00Z')).toEqual({
      effect: 'allow',
      policyId: 'send-freely',
      reason: 'Allowed by policy "send-freely".',
    });
    expect(at('2026-01-15T16:59:00Z').effect).toBe('allow'); // 17:59 CET
    expect(at('2026-01-15T17:00:00Z').policyId).toBe('office-hours'); // 18:00 CET
    expect(at('2026-07-15T16:30:00Z').policyId).toBe('office-hours'); // 18:30 CEST
    expect(at('2026-07-15T16:30:00Z', 'UTC').effect).toBe('allow'); // the zone decides
    expect(at('2026-01-17T10:00:00Z')).toMatchObject({ policyId: 'weekdays-only' }); // Saturday
    // 23:30 UTC on Sunday is already Monday 00:30 in Paris: hour and weekday move together.
    expect(at('2026-01-18T23:30:00Z').policyId).toBe('office-hours');
  });

  it('limits the rate of one action', () => {
    const tenant = `
      @id("send-rate")
      @reason("At most 20 messages an hour.")
      forbid (principal, action == HeroAgent::Action::"gmail.messages.send", resource)
      when { context.sameActionLastHour >= 20 };
    `;
    const rate = (sameActionLastHour: number) =>
      send(['bob@corp.example'], {
        recentActions: { lastHour: 40, lastDay: 100, sameActionLastHour },
      });
    expect(engine.decide(rate(20), tenant)).toMatchObject({
      effect: 'deny',
      policyId: 'send-rate',
    });
    expect(engine.decide(rate(19), tenant).effect).toBe('require_approval');
  });

  it('conditions on the role', () => {
    const tenant = `
      @id("members-may-not-buy")
      @reason("Only owners and admins may purchase.")
      forbid (principal, action in HeroAgent::Action::"purchase", resource)
      when { principal.role == "member" };
    `;
    const as = (role: PolicyRequest['principal']['role']) =>
      engine.decide(buy(100, { principal: { userId: 'u', role } }), tenant);
    expect(as('member')).toMatchObject({ effect: 'deny', policyId: 'members-may-not-buy' });
    expect(as('admin')).toMatchObject({ effect: 'require_approval' });
  });

  it('lets a forbid beat any permit', () => {
    const tenant = `
      @id("allow-all") permit (principal, action, resource);
      @id("no-trash") @reason("Nothing is trashed.")
      forbid (principal, action == HeroAgent::Action::"gmail.messages.trash", resource);
      @id("no-reads") @reason("Reads are off.")
      forbid (principal, action in HeroAgent::Action::"read", resource);
    `;
    expect(engine.decide(request('gmail.messages.trash'), tenant)).toMatchObject({
      effect: 'deny',
      policyId: 'no-trash',
    });
    expect(engine.decide(request('gmail.messages.read'), tenant).policyId).toBe('no-reads');
    expect(engine.decide(request('gmail.messages.archive'), tenant).policyId).toBe('allow-all');
  });

  it('reports the first satisfied forbid in text order', () => {
    const tenant = `
      @id("b-second") forbid (principal, action, resource);
      @id("a-first") forbid (principal, action, resource);
    `;
    expect(engine.decide(request('gmail.messages.search'), tenant).policyId).toBe('b-second');
  });

  it('lets an allowing permit win over an approval permit (documented rule)', () => {
    const tenant = `
      @id("approve-shared-calendar-reads") @approval("required")
      permit (principal, action in HeroAgent::Action::"read", resource)
      when { context.calendarId != "primary" };
    `;
    const list = request('calendar.events.list', { facts: { ...NO_FACTS, calendarId: 'team' } });
    expect(engine.decide(list, tenant).policyId).toBe('default-allow-reads');
  });

  it('denies an action type the catalog does not know, whatever the policies say', () => {
    const tenant = `@id("allow-all") permit (principal, action, resource);`;
    expect(engine.decide(request('gmail.messages.delete'), tenant)).toEqual({
      effect: 'deny',
      policyId: 'unknown-action',
      reason: '"gmail.messages.delete" is not an action HeroAgent knows.',
    });
    expect(engine.decide(request('read'), tenant).policyId).toBe('unknown-action');
    expect(engine.decide(request('__proto__'), tenant).policyId).toBe('unknown-action');
  });

  it('denies with policy-error when a policy fails at run time', () => {
    const tenant = `
      @id("overflowing-guard")
      @reason("A guard that overflows a Long.")
      forbid (principal, action in HeroAgent::Action::"purchase", resource)
      when { context.amountMinor * 9223372036854775807 > 0 };
      @id("allow-purchases") permit (principal, action in HeroAgent::Action::"purchase", resource);
    `;
    expect(PolicyEngine.check(tenant).ok).toBe(true);
    const decision = engine.decide(buy(2), tenant);
    expect(decision).toMatchObject({ effect: 'deny', policyId: 'policy-error' });
    expect(decision.reason).toContain('"overflowing-guard"');
    expect(decision.reason).toContain('overflow');
    // The policy is only evaluated where its scope applies.
    expect(engine.decide(request('gmail.messages.search'), tenant).effect).toBe('allow');
  });

  it('denies with policy-error when the tenant text is invalid, and never throws', () => {
    for (const tenant of [
      'permit (principal, action, resource',
      `@id("typo") forbid (principal, action, resource) when { context.amout > 1 };`,
      `@id("x") permit (principal, action, resource); @id("x") permit (principal, action, resource);`,
    ]) {
      const decision = engine.decide(request('gmail.messages.search'), tenant);
      expect(decision.effect, tenant).toBe('deny');
      expect(decision.policyId).toBe('policy-error');
      expect(decision.reason).toMatch(/^The tenant's policies are invalid/);
    }
  });

  it('denies a request it cannot evaluate', () => {
    const badZone = engine.decide(
      request('gmail.messages.search', { timeZone: 'Mars/Olympus' }),
      '',
    );
    expect(badZone).toEqual({
      effect: 'deny',
      policyId: 'invalid-request',
      reason: 'The request is invalid: "Mars/Olympus" is not a known IANA time zone.',
    });
    const negative = request('gmail.messages.search', {
      recentActions: { lastHour: -1, lastDay: 0, sameActionLastHour: 0 },
    });
    expect(engine.decide(negative, '').policyId).toBe('invalid-request');
    expect(engine.decide(buy(1, { spentTodayMinor: 0.5 }), '').policyId).toBe('invalid-request');
    const never = request('gmail.messages.search', { now: new Date(Number.NaN) });
    expect(engine.decide(never, '').policyId).toBe('invalid-request');
  });

  it('keeps deciding correctly once its cache of parsed policy sets has turned over', () => {
    const texts = Array.from(
      { length: 300 },
      (_, i) =>
        `@id("limit-${i}") forbid (principal, action in HeroAgent::Action::"purchase", resource) when { context.amountMinor > ${i} };`,
    );
    for (const [i, text] of texts.entries()) {
      expect(engine.decide(buy(i + 1), text).policyId).toBe(`limit-${i}`);
      expect(engine.decide(buy(i + 1), texts[i - 1] ?? text).policyId).toBe(
        i === 0 ? 'limit-0' : `limit-${i - 1}`,
      );
    }
    expect(engine.decide(buy(1), texts[0]!).policyId).toBe('limit-0');
    expect(engine.decide(buy(300), texts[299]!).policyId).toBe('limit-299');
  });
});
