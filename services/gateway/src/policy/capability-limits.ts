import type { ActionFacts, CapabilityLimits } from '@heroagent/contracts';

/**
 * The capability's ceilings, checked before the policy: a reason when one is exceeded. `counts`
 * are the task's other actions that count (held and waiting ones included), never this one.
 */
export function exceedsLimits(
  limits: CapabilityLimits,
  facts: ActionFacts,
  counts: { taskActions: number; taskSpentMinor: number },
): string | undefined {
  if (limits.maxActions !== undefined && counts.taskActions >= limits.maxActions) {
    return `the task may take at most ${limits.maxActions} actions`;
  }
  if (limits.recipients !== undefined) {
    const outside = facts.recipients.filter((address) => !limits.recipients!.includes(address));
    if (outside.length > 0) return `the task may not write to ${outside.join(', ')}`;
  }
  if (limits.recipientDomains !== undefined) {
    const outside = facts.recipientDomains.filter(
      (domain) => !limits.recipientDomains!.includes(domain),
    );
    if (outside.length > 0) return `the task may not write to addresses at ${outside.join(', ')}`;
  }
  if (facts.amount !== undefined) {
    if (limits.spend === undefined) return 'the task may not spend money';
    if (facts.amount.currency !== limits.spend.currency) {
      return `the task may spend only ${limits.spend.currency}`;
    }
    if (counts.taskSpentMinor + facts.amount.minor > limits.spend.maxMinor) {
      return `the task may spend at most ${limits.spend.maxMinor} (minor units of ${limits.spend.currency}) in all`;
    }
  }
  return undefined;
}
