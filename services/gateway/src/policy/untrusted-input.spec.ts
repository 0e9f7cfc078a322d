import { describe, expect, it } from 'vitest';
import { actionDefinition } from '@heroagent/contracts';
import type { PolicyDecision } from './policy-engine.js';
import { declaredByAgent, guardUntrustedInput } from './untrusted-input.js';

const write = actionDefinition('gmail.drafts.create')!;
const read = actionDefinition('gmail.messages.search')!;
const allow: PolicyDecision = { effect: 'allow', policyId: 'writes', reason: 'allowed' };

describe('values that did not come from the person', () => {
  it('turn an allowed write into one a person must approve, naming them and why', () => {
    const decision = guardUntrustedInput(allow, write, [
      { param: 'to', why: 'first seen in a mail from a@evil.example' },
      ...declaredByAgent(['cc']),
    ]);
    expect(decision).toEqual({
      effect: 'require_approval',
      policyId: 'untrusted-input',
      reason:
        'Not from you: to (first seen in a mail from a@evil.example); cc (the agent took it from content it read). A person must approve.',
    });
  });

  it('leave a read, a deny, an approval already required and a request without them alone', () => {
    const deny: PolicyDecision = { effect: 'deny', policyId: 'no', reason: 'no' };
    const approve: PolicyDecision = { effect: 'require_approval', policyId: 'ask', reason: 'ask' };
    const to = declaredByAgent(['to']);
    expect(guardUntrustedInput(allow, read, declaredByAgent(['query']))).toBe(allow);
    expect(guardUntrustedInput(deny, write, to)).toBe(deny);
    expect(guardUntrustedInput(approve, write, to)).toBe(approve);
    expect(guardUntrustedInput(allow, write, [])).toBe(allow);
  });

  it('keep the reason short however many there are', () => {
    const many = declaredByAgent(Array.from({ length: 50 }, (_, i) => `p${i}-${'x'.repeat(190)}`));
    const { reason } = guardUntrustedInput(allow, write, many);
    expect(reason).toContain('and 45 more');
    expect(reason.length).toBeLessThan(2000);
  });
});
