import type { ActionDefinition } from '@heroagent/contracts';
import type { PolicyDecision } from './policy-engine.js';

/** The id under which the gateway itself, not a tenant's policy, asks for an approval. */
const UNTRUSTED_INPUT_POLICY_ID = 'untrusted-input';

/** A parameter whose value did not come from the person, and why the gateway thinks so. */
export interface UntrustedValue {
  /** The parameter's path, e.g. `to`, `changes.attendees`, `body`. */
  readonly param: string;
  /** Shown to the approver: where the value came from, e.g. "first seen in a mail from …". */
  readonly why: string;
}

/** How many values the reason names before "and n more". */
const NAMED = 5;

/**
 * A side effect that uses values the person did not give (an address found in a mail, text
 * copied out of another message) waits for a person's approval, whatever the policy allows: such
 * content may have been written to steer the agent. A read changes nothing and runs; a deny stays
 * a deny; an approval already required stays required.
 */
export function guardUntrustedInput(
  decision: PolicyDecision,
  definition: ActionDefinition,
  untrusted: readonly UntrustedValue[],
): PolicyDecision {
  if (untrusted.length === 0 || definition.class === 'read' || decision.effect !== 'allow') {
    return decision;
  }
  const named = untrusted
    .slice(0, NAMED)
    .map((value) => `${value.param.slice(0, 60)} (${value.why.slice(0, 200)})`);
  const more = untrusted.length - named.length;
  return {
    effect: 'require_approval',
    policyId: UNTRUSTED_INPUT_POLICY_ID,
    reason: `Not from you: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}. A person must approve.`,
  };
}

/** What the agent itself declared untrusted: a hint the gateway adds to, never relies on. */
export function declaredByAgent(params: readonly string[]): UntrustedValue[] {
  return params.map((param) => ({ param, why: 'the agent took it from content it read' }));
}

/** The untrusted values stored with an action (anything unreadable is dropped). */
export function untrustedValuesOf(stored: unknown): UntrustedValue[] {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((value: unknown) => {
    if (typeof value !== 'object' || value === null) return [];
    const { param, why } = value as { param?: unknown; why?: unknown };
    return typeof param === 'string' && typeof why === 'string' ? [{ param, why }] : [];
  });
}
