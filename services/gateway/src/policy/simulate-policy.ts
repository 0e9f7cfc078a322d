import { ContractError, type PolicySimulation } from '@heroagent/contracts';
import type { ActionReplayRepository } from '../actions/action-replay.repository.js';
import type { PeopleRepository, Role } from '../people/people.repository.js';
import type { PoliciesRepository } from './policies.repository.js';
import { PolicyEngine } from './policy-engine.js';
import { replayAction, summarise } from './policy-replay.js';

/** What a simulation tells the console about how each action's context was rebuilt. */
export const SIMULATION_ASSUMPTIONS: readonly string[] = [
  "Each action is decided as the gateway decides it when the agent asks (the same admission): its task's limits first (actions, recipients, spend), then the policy.",
  "Rate, spend and limit counts (actions in the last hour and day, the same action in the last hour, spent today, the task's actions and spend) are as of when each action was asked, counting the person's other actions by the status they have now.",
  'The hour and weekday are those of when each action was asked, in UTC, as the gateway decides them.',
  "Each person's role is their role now; an action of someone who has left the tenant shows as refused (not-a-member).",
  'Values the gateway found did not come from the person (recipients, amounts, text from content, …) are those recorded with the action: such an action stays held (untrusted-input) unless a policy denies it.',
  'Undos are not replayed: a person asks for them and no policy decides them.',
];

/**
 * "What would happen": the tenant's most recent actions decided under its saved policy and under
 * a proposed text. Reads only — nothing is saved, run or recorded, whatever the text says.
 */
export class SimulatePolicy {
  constructor(
    private readonly actions: Pick<ActionReplayRepository, 'recentForReplay'>,
    private readonly policies: Pick<PoliciesRepository, 'current'>,
    private readonly people: Pick<PeopleRepository, 'roleOf'>,
    private readonly engine: PolicyEngine,
  ) {}

  async execute(
    tenantId: string,
    request: { readonly text: string; readonly limit: number },
  ): Promise<PolicySimulation> {
    // The same check, and the same answer, as saving the text.
    const checked = PolicyEngine.check(request.text);
    if (!checked.ok) {
      throw new ContractError(
        'INVALID_REQUEST',
        'the policy is not valid',
        checked.problems.map((message) => ({ path: 'body.text', message })),
      );
    }
    const saved = await this.policies.current(tenantId);
    const rows = await this.actions.recentForReplay(tenantId, request.limit);
    const roles = new Map<string, Role | undefined>();
    for (const userId of new Set(rows.map((row) => row.userId))) {
      roles.set(userId, await this.people.roleOf(tenantId, userId));
    }
    const texts = { tenantId, current: saved?.text ?? '', proposed: request.text };
    const results = rows.map((row) => replayAction(row, roles.get(row.userId), texts, this.engine));
    return {
      currentVersion: saved?.version ?? 0,
      replayed: results.length,
      changed: results.filter((result) => result.changed).length,
      results,
      summary: summarise(results),
      assumptions: [...SIMULATION_ASSUMPTIONS],
    };
  }
}
