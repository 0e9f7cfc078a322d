import { describe, expect, it } from 'vitest';
import { actionDefinition } from '@heroagent/contracts';
import type { PolicyDecision } from '../policy/policy-engine.js';
import { guardUntrustedInput } from './untrusted-input.js';

const write = actionDefinition('gmail.drafts.create')!;
const read = actionDefinition('gmail.messages.search')!;
const allow: PolicyDecision = { effect: 'allow', policyId: 'writes', reason: 'allowed' };

describe('values the agent took from content it read', () => {
  it('turn an allowed write into one a person must approve, naming them', () => {
    const decision = guardUntrustedInput(allow, write, ['to', 'cc']);
    expect(decision).toEqual({
      effect: 'require_approval',
      policyId: 'untrusted-input',
      reason:
        'The agent took to, cc from content it read (mail, events), not from you; a person must approve.',
    });
  });

  it('leave a read, a deny, an approval already required and a request without them alone', () => {
    const deny: PolicyDecision = { effect: 'deny', policyId: 'no', reason: 'no' };
    const approve: PolicyDecision = { effect: 'require_approval', policyId: 'ask', reason: 'ask' };
    expect(guardUntrustedInput(allow, read, ['query'])).toBe(allow);
    expect(guardUntrustedInput(deny, write, ['to'])).toBe(deny);
    expect(guardUntrustedInput(approve, write, ['to'])).toBe(approve);
    expect(guardUntrustedInput(allow, write, [])).toBe(allow);
  });

  it('keep the reason short however many there are', () => {
    const many = Array.from({ length: 50 }, (_, i) => `param${i}-${'x'.repeat(190)}`);
    const { reason } = guardUntrustedInput(allow, write, many);
    expect(reason).toContain('and 45 more');
    expect(reason.length).toBeLessThan(2000);
  });
});
