import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { actionDefinition } from '@heroagent/contracts';
import { decideAdmission, decideResumption, type AdmissionRequest } from './admission.js';
import { PolicyEngine } from './policy-engine.js';

const engine = new PolicyEngine();
const send = actionDefinition('gmail.messages.send')!;
const buy = actionDefinition('purchase.create')!;
const SENDS_FREELY = `@id("sends-freely") permit (principal, action == HeroAgent::Action::"gmail.messages.send", resource);`;
const NO_COUNTS = {
  lastHour: 0,
  lastDay: 0,
  sameActionLastHour: 0,
  spentTodayMinor: 0,
  taskActions: 0,
  taskSpentMinor: 0,
};

function request(overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    tenantId: randomUUID(),
    userId: randomUUID(),
    taskId: randomUUID(),
    grant: {
      actions: ['gmail.messages.send', 'purchase.create'],
      limits: { maxActions: 3, spend: { maxMinor: 1000, currency: 'EUR' } },
      connectionId: randomUUID(),
    },
    type: 'gmail.messages.send',
    definition: send,
    params: send.params.safeParse({ to: ['ada@corp.example'], subject: 'Hi', body: 'Hello' }),
    standing: 'live',
    role: 'member',
    counts: NO_COUNTS,
    policyText: SENDS_FREELY,
    retry: false,
    untrusted: [],
    now: new Date('2026-12-05T10:00:00Z'),
    ...overrides,
  };
}

const codeOf = (admission: ReturnType<typeof decideAdmission>) =>
  admission.kind === 'refused' ? admission.refusal.code : admission.kind;

describe('the admission decision', () => {
  it('answers with the first check that fails, in a fixed order', () => {
    expect(
      codeOf(decideAdmission(request({ standing: 'paused', definition: undefined }), engine)),
    ).toBe('TENANT_PAUSED');
    expect(codeOf(decideAdmission(request({ standing: 'expired' }), engine))).toBe(
      'CAPABILITY_EXPIRED',
    );
    expect(codeOf(decideAdmission(request({ standing: 'stopped' }), engine))).toBe(
      'CAPABILITY_REVOKED',
    );
    expect(codeOf(decideAdmission(request({ definition: undefined, type: 'x.y.z' }), engine))).toBe(
      'ACTION_UNKNOWN',
    );
    const notGranted = request({ grant: { actions: ['purchase.create'], limits: {} } });
    expect(codeOf(decideAdmission(notGranted, engine))).toBe('ACTION_NOT_ALLOWED');
    const bad = request({ params: send.params.safeParse({ to: 'nobody' }), retry: true });
    const invalid = decideAdmission(bad, engine);
    expect(codeOf(invalid)).toBe('INVALID_REQUEST');
    expect(invalid.kind === 'refused' && invalid.record).toBe('none');
    // A retry answers before membership and limits (the first attempt may have used them up).
    expect(
      codeOf(
        decideAdmission(
          request({ retry: true, role: undefined, counts: { ...NO_COUNTS, taskActions: 9 } }),
          engine,
        ),
      ),
    ).toBe('retry');
    expect(codeOf(decideAdmission(request({ role: undefined }), engine))).toBe(
      'CAPABILITY_REVOKED',
    );
    const noAccount = request({ grant: { actions: ['gmail.messages.send'], limits: {} } });
    expect(codeOf(decideAdmission(noAccount, engine))).toBe('ACTION_NOT_ALLOWED');
  });

  it('counts what is under way against the limits: the action that would pass one is refused', () => {
    expect(
      codeOf(decideAdmission(request({ counts: { ...NO_COUNTS, taskActions: 2 } }), engine)),
    ).toBe('decided');
    const full = decideAdmission(request({ counts: { ...NO_COUNTS, taskActions: 3 } }), engine);
    expect(full.kind === 'refused' && full.refusal.message).toBe(
      'the task may take at most 3 actions',
    );
    const purchase = (spent: number) =>
      request({
        type: 'purchase.create',
        definition: buy,
        params: buy.params.safeParse({
          merchant: 'books',
          item: 'SICP',
          amountMinor: 400,
          currency: 'EUR',
        }),
        counts: { ...NO_COUNTS, taskSpentMinor: spent },
      });
    expect(codeOf(decideAdmission(purchase(600), engine))).toBe('decided');
    expect(codeOf(decideAdmission(purchase(601), engine))).toBe('ACTION_NOT_ALLOWED');
  });

  it('holds an allowed write with values not from the person for approval, naming them', () => {
    const admission = decideAdmission(
      request({ untrusted: [{ param: 'to', why: 'first seen in a mail' }] }),
      engine,
    );
    expect(admission.kind === 'decided' && admission.decision).toEqual({
      effect: 'require_approval',
      policyId: 'untrusted-input',
      reason: 'Not from you: to (first seen in a mail). A person must approve.',
    });
  });
});

describe('going on with a held action', () => {
  it('goes on only if it would be admitted again, its approval standing in for the one asked', () => {
    const allowed = decideAdmission(request(), engine);
    expect(decideResumption(allowed, false)).toMatchObject({ proceed: true });
    const asks = decideAdmission(request({ policyText: '' }), engine);
    expect(decideResumption(asks, true)).toMatchObject({ proceed: true });
    expect(decideResumption(asks, false)).toMatchObject({
      proceed: false,
      refusal: { code: 'POLICY_DENIED' },
    });
    const forbidden = decideAdmission(
      request({ policyText: `@id("no") forbid (principal, action, resource);` }),
      engine,
    );
    expect(decideResumption(forbidden, true)).toMatchObject({
      proceed: false,
      refusal: { code: 'POLICY_DENIED' },
    });
    expect(
      decideResumption(decideAdmission(request({ standing: 'paused' }), engine), true),
    ).toMatchObject({
      proceed: false,
      refusal: { code: 'TENANT_PAUSED' },
    });
  });
});
