import {
  actionDefinition,
  capabilityLimitsSchema,
  POLICY_EFFECTS,
  simulatedDecisionSchema,
  type ActionFacts,
  type PolicySimulation,
  type PolicySimulationResult,
  type SimulatedDecision,
} from '@heroagent/contracts';
import type { ReplayableAction } from '../actions/action-replay.repository.js';
import { decideAdmission, type Admission } from './admission.js';
import { untrustedValuesOf } from './untrusted-input.js';
import type { Role } from '../people/people.repository.js';
import type { PolicyDecision, PolicyEngine } from './policy-engine.js';

/**
 * Deciding a recorded action again with the live path's own admission decision
 * (policy/admission.ts): the catalog's facts from the stored parameters, its task's grant and
 * limits, the time it was asked, the counts as of then, the values recorded as not the person's.
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

/** The id a refusal before any policy shows under, in place of a policy's. */
const REFUSAL_POLICY_IDS: Partial<Record<string, string>> = {
  ACTION_UNKNOWN: 'unknown-action',
  INVALID_REQUEST: 'invalid-request',
  ACTION_NOT_ALLOWED: 'capability-limits',
};

/** What the admission decided, as a decision the console can show beside a policy's. */
function asDecision(admission: Admission): PolicyDecision {
  switch (admission.kind) {
    case 'decided':
      return admission.decision;
    case 'refused': {
      const { refusal } = admission;
      const notMember = refusal.code === 'CAPABILITY_REVOKED';
      return {
        effect: 'deny',
        policyId: notMember
          ? NOT_A_MEMBER_POLICY_ID
          : (REFUSAL_POLICY_IDS[refusal.code] ?? 'refused'),
        reason: notMember
          ? 'The person is no longer a member of the tenant, so the action would be refused before any policy.'
          : `Refused before any policy: ${refusal.message}.`,
      };
    }
    case 'retry':
      return { effect: 'deny', policyId: 'refused', reason: 'A replay is never a retry.' };
  }
}

/** The facts and the two decisions for one action: the live path's admission, under each text. */
function decideBoth(
  row: ReplayableAction,
  role: Role | undefined,
  texts: ReplayTexts,
  engine: PolicyEngine,
): { facts: ActionFacts; current: PolicyDecision; proposed: PolicyDecision } {
  const definition = actionDefinition(row.type);
  const params = definition?.params.safeParse(row.params) ?? {
    success: true as const,
    data: undefined,
  };
  const limits = capabilityLimitsSchema.safeParse(row.grant.limits);
  const decide = (text: string) =>
    decideAdmission(
      {
        tenantId: texts.tenantId,
        userId: row.userId,
        taskId: row.taskId,
        grant: {
          actions: row.grant.actions,
          limits: limits.success ? limits.data : {},
          connectionId: row.grant.connectionId,
        },
        type: row.type,
        definition,
        params,
        standing: 'live',
        role,
        counts: row.counts,
        policyText: text,
        retry: false,
        untrusted: untrustedValuesOf(row.untrusted),
        now: row.createdAt,
      },
      engine,
    );
  const current = decide(texts.current);
  return {
    facts: current.kind === 'decided' ? current.facts : factsOf(definition, params),
    current: asDecision(current),
    proposed: asDecision(decide(texts.proposed)),
  };
}

function factsOf(
  definition: ReturnType<typeof actionDefinition>,
  params: { success: boolean; data?: unknown },
): ActionFacts {
  return definition !== undefined && params.success ? definition.facts(params.data) : NO_FACTS;
}

/** One action decided under both texts. */
export function replayAction(
  row: ReplayableAction,
  role: Role | undefined,
  texts: ReplayTexts,
  engine: PolicyEngine,
): PolicySimulationResult {
  const recorded = recordedDecision(row.policy);
  const { facts, current, proposed } = decideBoth(row, role, texts, engine);
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
