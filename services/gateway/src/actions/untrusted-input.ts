import type { ActionDefinition } from '@heroagent/contracts';
import type { PolicyDecision } from '../policy/policy-engine.js';

/** The id under which the gateway itself, not a tenant's policy, asks for an approval. */
export const UNTRUSTED_INPUT_POLICY_ID = 'untrusted-input';

/** How many parameter names the reason shows before "and n more". */
const NAMED = 5;

/**
 * A side effect that uses values the agent took from content it read (an address found in a
 * mail, a time in an invitation) rather than from the person waits for a person's approval,
 * whatever the policy allows: such content may have been written to steer the agent. A read
 * changes nothing and runs; a deny stays a deny; an approval already required stays required.
 */
export function guardUntrustedInput(
  decision: PolicyDecision,
  definition: ActionDefinition,
  untrustedParams: readonly string[],
): PolicyDecision {
  if (untrustedParams.length === 0 || definition.class === 'read' || decision.effect !== 'allow') {
    return decision;
  }
  const names = untrustedParams.slice(0, NAMED).map((name) => name.slice(0, 60));
  const more = untrustedParams.length - names.length;
  return {
    effect: 'require_approval',
    policyId: UNTRUSTED_INPUT_POLICY_ID,
    reason: `The agent took ${names.join(', ')}${more > 0 ? ` and ${more} more` : ''} from content it read (mail, events), not from you; a person must approve.`,
  };
}
