import {
  actionDefinition,
  POLICY_EFFECTS,
  simulatedDecisionSchema,
  type ActionFacts,
  type PolicySimulation,
  type PolicySimulationResult,
  type SimulatedDecision,
} from '@heroagent/contracts';
import type { ReplayableAction } from '../actions/actions.repository.js';
import { UNTRUSTED_INPUT_POLICY_ID } from '../actions/untrusted-input.js';
import type { Role } from '../people/people.repository.js';
import type { PolicyDecision, PolicyEngine } from './policy-engine.js';

/**
 * Deciding a recorded action again, as the action executor decided it when the agent asked: the
 * catalog's facts from the stored parameters, the time it was asked, the counts as of then.
 * Pure: the caller reads the rows and roles; nothing here writes or acts.
 */

/** Why an action of someone who left the tenant is refused, under any policy. */
export const NOT_A_MEMBER_POLICY_ID = 'not-a-member';

/** The tenant, and the policy texts its actions are decided under, side by side. */
export interface ReplayTexts {
  readonly tenantId: string;
  readonly current: string;
  readonly proposed: string;
}

type Effect = SimulatedDecision['effect'];

const NO_FACTS: ActionFacts = { recipients: [], recipientDomains: [] };

function factsView(facts: ActionFacts): PolicySimulationResult['facts'] {
  return {
    recipients: [...facts.recipients],
    recipientDomains: [...facts.recipientDomains],
    calendarId: facts.calendarId ?? null,
    amount: facts.amount === undefined ? null : { ...facts.amount },
  };
}

function recordedDecision(policy: unknown): SimulatedDecision | null {
  const parsed = simulatedDecisionSchema.safeParse(policy);
  return parsed.success ? parsed.data : null;
}

/** Both sides get the same decision when no policy can matter. */
function both(decision: PolicyDecision): { current: PolicyDecision; proposed: PolicyDecision } {
  return { current: decision, proposed: decision };
}

/** The facts and the two decisions for one action. */
function decideBoth(
  row: ReplayableAction,
  role: Role | undefined,
  recorded: SimulatedDecision | null,
  texts: ReplayTexts,
  engine: PolicyEngine,
): { facts: ActionFacts; current: PolicyDecision; proposed: PolicyDecision } {
  const definition = actionDefinition(row.type);
  const parsed = definition?.params.safeParse(row.params);
  if (definition !== undefined && parsed?.success !== true) {
    return {
      facts: NO_FACTS,
      ...both({
        effect: 'deny',
        policyId: 'invalid-request',
        reason: 'The stored parameters no longer fit the action, so it cannot be decided again.',
      }),
    };
  }
  const facts = definition === undefined ? NO_FACTS : definition.facts(parsed!.data);
  if (role === undefined) {
    return {
      facts,
      ...both({
        effect: 'deny',
        policyId: NOT_A_MEMBER_POLICY_ID,
        reason:
          'The person is no longer a member of the tenant, so the action would be refused before any policy.',
      }),
    };
  }
  const decide = (text: string): PolicyDecision => {
    const decision = engine.decide(
      {
        tenantId: texts.tenantId,
        principal: { userId: row.userId, role },
        action: row.type,
        taskId: row.taskId,
        facts,
        now: row.createdAt,
        recentActions: {
          lastHour: row.counts.lastHour,
          lastDay: row.counts.lastDay,
          sameActionLastHour: row.counts.sameActionLastHour,
        },
        spentTodayMinor: row.counts.spentTodayMinor,
      },
      text,
    );
    // The agent took values from content it read: the gateway held it for a person whatever the
    // policy allowed, and would again (the parameter names are only in the recorded reason).
    const untrusted =
      recorded?.policyId === UNTRUSTED_INPUT_POLICY_ID &&
      definition?.class !== 'read' &&
      decision.effect === 'allow';
    return untrusted ? recorded : decision;
  };
  return { facts, current: decide(texts.current), proposed: decide(texts.proposed) };
}

/** One action decided under both texts. */
export function replayAction(
  row: ReplayableAction,
  role: Role | undefined,
  texts: ReplayTexts,
  engine: PolicyEngine,
): PolicySimulationResult {
  const recorded = recordedDecision(row.policy);
  const { facts, current, proposed } = decideBoth(row, role, recorded, texts, engine);
  return {
    actionId: row.id,
    taskId: row.taskId,
    userId: row.userId,
    action: row.type,
    class: row.class,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    facts: factsView(facts),
    recorded,
    current: { effect: current.effect, policyId: current.policyId, reason: current.reason },
    proposed: { effect: proposed.effect, policyId: proposed.policyId, reason: proposed.reason },
    changed: current.effect !== proposed.effect || current.policyId !== proposed.policyId,
  };
}

function effectCounts(): Record<Effect, number> {
  return Object.fromEntries(POLICY_EFFECTS.map((effect) => [effect, 0])) as Record<Effect, number>;
}

/** Effects on each side, and how many actions went from which effect to which. */
export function summarise(results: readonly PolicySimulationResult[]): PolicySimulation['summary'] {
  const current = effectCounts();
  const proposed = effectCounts();
  const pairs = new Map<string, { from: Effect; to: Effect; count: number; changed: number }>();
  for (const result of results) {
    const from = result.current.effect;
    const to = result.proposed.effect;
    current[from] += 1;
    proposed[to] += 1;
    const key = `${from}>${to}`;
    const pair = pairs.get(key) ?? { from, to, count: 0, changed: 0 };
    pair.count += 1;
    if (result.changed) pair.changed += 1;
    pairs.set(key, pair);
  }
  const order = (effect: Effect) => POLICY_EFFECTS.indexOf(effect);
  const transitions = [...pairs.values()].sort(
    (a, b) => b.count - a.count || order(a.from) - order(b.from) || order(a.to) - order(b.to),
  );
  return { current, proposed, transitions };
}
