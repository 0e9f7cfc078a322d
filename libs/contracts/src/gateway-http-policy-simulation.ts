import { z } from 'zod';
import { taskIdSchema, timestampSchema, userIdSchema } from './common.js';
import { overseers } from './gateway-http-access.js';
import { defineRoute } from './http-route.js';

/**
 * The gateway's HTTP API for trying a policy before saving it: the tenant's recent actions are
 * decided again under the current policy and under the proposed text, side by side. Nothing is
 * saved, nothing is run, nothing is recorded.
 */

/** The three effects a policy decision has. */
export const POLICY_EFFECTS = ['allow', 'deny', 'require_approval'] as const;
export const policyEffectSchema = z.enum(POLICY_EFFECTS);
export type PolicyEffect = z.infer<typeof policyEffectSchema>;

/** One decision: its effect, the policy that decided it and the sentence shown to people. */
export const simulatedDecisionSchema = z.object({
  effect: policyEffectSchema,
  /** A policy's @id, or one of HeroAgent's own (default-deny, untrusted-input, not-a-member, …). */
  policyId: z.string(),
  reason: z.string(),
});
export type SimulatedDecision = z.infer<typeof simulatedDecisionSchema>;

/** One replayed action: what it was, and how each policy decides it. */
export const policySimulationResultSchema = z.object({
  actionId: z.uuid(),
  taskId: taskIdSchema,
  userId: userIdSchema,
  /** The catalog type, e.g. `gmail.messages.send`. */
  action: z.string(),
  // Spelt out: action-catalog.ts imports gateway-http.ts, which imports this file.
  class: z.enum(['read', 'reversible', 'irreversible']),
  /** The action's status now (completed, denied, pending_approval, …). */
  status: z.string(),
  createdAt: timestampSchema,
  /** What the policy sees of the action, from its stored parameters: to whom, how much. */
  facts: z.object({
    recipients: z.array(z.string()),
    recipientDomains: z.array(z.string()),
    calendarId: z.string().nullable(),
    amount: z.object({ minor: z.number().int(), currency: z.string() }).nullable(),
  }),
  /** The decision recorded when the agent asked (null if the record is unreadable). */
  recorded: simulatedDecisionSchema.nullable(),
  /** The decision under the tenant's policy as it is saved now. */
  current: simulatedDecisionSchema,
  /** The decision under the proposed text. */
  proposed: simulatedDecisionSchema,
  /** Whether `proposed` differs from `current` (effect or deciding policy). */
  changed: z.boolean(),
});
export type PolicySimulationResult = z.infer<typeof policySimulationResultSchema>;

const effectCountsSchema = z.object({
  allow: z.number().int().nonnegative(),
  deny: z.number().int().nonnegative(),
  require_approval: z.number().int().nonnegative(),
});

export const policySimulationSchema = z.object({
  /** The saved version the current decisions come from (0: none saved, the defaults alone). */
  currentVersion: z.number().int().nonnegative(),
  replayed: z.number().int().nonnegative(),
  changed: z.number().int().nonnegative(),
  /** Newest first. */
  results: z.array(policySimulationResultSchema),
  summary: z.object({
    /** Effects under the current policy and under the proposed one. */
    current: effectCountsSchema,
    proposed: effectCountsSchema,
    /** One entry per (from, to) pair that occurs, same-effect pairs included, most frequent first. */
    transitions: z.array(
      z.object({
        from: policyEffectSchema,
        to: policyEffectSchema,
        count: z.number().int().positive(),
        /** How many of them changed (a same-effect pair changes when another policy decides). */
        changed: z.number().int().nonnegative(),
      }),
    ),
  }),
  /**
   * How each action's context was rebuilt: rate and spend counts as of the action's time (with
   * statuses as they are now), time of day from its creation (UTC), the person's role as now.
   */
  assumptions: z.array(z.string()),
});
export type PolicySimulation = z.infer<typeof policySimulationSchema>;

export const simulateTenantPolicy = defineRoute({
  id: 'tenant.policy.simulate',
  method: 'POST',
  path: '/v1/tenant/policy/simulate',
  summary:
    "Decides the tenant's most recent actions under the current policy and under a proposed text, without saving or running anything; invalid text is refused like saving refuses it.",
  access: overseers,
  body: z.strictObject({
    /** The proposed Cedar policies, as they would be saved. */
    text: z.string().max(200_000),
    /** How many of the most recent actions to replay. */
    limit: z.number().int().min(1).max(1000).default(200),
  }),
  outcome: { kind: 'json', status: 200, schema: policySimulationSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN'],
  rateLimitPerMinute: 30,
});

/** The policy-simulation routes, spread into GATEWAY_ROUTES. */
export const POLICY_SIMULATION_ROUTES = [simulateTenantPolicy] as const;
