import { z } from 'zod';
import { actionTypeSchema, capabilityTokenSchema, timestampSchema } from './common.js';
import { defineRpc } from './define.js';

/**
 * `gateway.actions.execute`: the agent asks the gateway to perform one action. The gateway checks
 * the capability, validates `params` against the action's schema, asks the policy, acts with a
 * short-lived token and records a signed audit event. The agent never learns how.
 */
export const executeActionRequestSchema = z.strictObject({
  capability: capabilityTokenSchema,
  action: actionTypeSchema,
  /** Typed per action by the catalog; validated by the gateway against that action's schema. */
  params: z.record(z.string(), z.json()),
  /** Same key, same action: a retry never repeats a side effect. */
  idempotencyKey: z
    .string()
    .min(8)
    .max(128)
    .regex(/^[A-Za-z0-9_.:-]+$/),
  /** Why the agent takes this step, in a sentence shown to the user and stored in audit. */
  rationale: z.string().trim().min(1).max(2000),
  /**
   * Parameters whose values the agent took from content it read (an address found in a mail, an
   * amount in an event) rather than from the person: a side effect that uses one waits for a
   * person's approval whatever the policy allows.
   */
  untrustedParams: z.array(z.string().min(1).max(200)).max(50).default([]),
});

export const executeActionResponseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('completed'),
    actionId: z.uuid(),
    auditEventId: z.uuid(),
    /** Only the fields the step needs. */
    result: z.json(),
    undo: z.object({ available: z.boolean(), until: timestampSchema.optional() }),
  }),
  z.object({
    status: z.literal('pending_approval'),
    actionId: z.uuid(),
    auditEventId: z.uuid(),
    approvalId: z.uuid(),
    expiresAt: timestampSchema,
  }),
]);

export const executeAction = defineRpc({
  subject: 'gateway.actions.execute',
  request: executeActionRequestSchema,
  response: executeActionResponseSchema,
  errors: [
    'CAPABILITY_INVALID',
    'CAPABILITY_EXPIRED',
    'CAPABILITY_REVOKED',
    'TENANT_PAUSED',
    'ACTION_UNKNOWN',
    'ACTION_NOT_ALLOWED',
    'POLICY_DENIED',
    'IDEMPOTENCY_CONFLICT',
    'RATE_LIMITED',
    'CONNECTION_REVOKED',
    'CONNECTION_NOT_FOUND',
    'CONNECTION_BROKEN',
    'SCOPE_NOT_GRANTED',
    'PROVIDER_UNAVAILABLE',
    'SECRETS_UNAVAILABLE',
    'CONFLICT',
    'UPSTREAM_FAILED',
  ],
  callers: ['agent'],
  description: 'The agent asks the gateway to perform one catalog action under its capability.',
});

/**
 * `gateway.actions.get`: where an action the agent asked for stands — how an agent learns that
 * the person approved (and the action ran) or denied it.
 */
export const getAction = defineRpc({
  subject: 'gateway.actions.get',
  request: z.strictObject({ capability: capabilityTokenSchema, actionId: z.uuid() }),
  response: z.object({
    actionId: z.uuid(),
    action: actionTypeSchema,
    status: z.enum([
      'executing',
      'completed',
      'failed',
      'denied',
      'pending_approval',
      'approved',
      'rejected',
      'expired',
      'undone',
      'cancelled',
      'scheduled',
    ]),
    result: z.json().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    approval: z.object({ id: z.uuid(), status: z.string(), expiresAt: timestampSchema }).optional(),
  }),
  errors: [
    'CAPABILITY_INVALID',
    'CAPABILITY_EXPIRED',
    'CAPABILITY_REVOKED',
    'TENANT_PAUSED',
    'NOT_FOUND',
  ],
  callers: ['agent'],
  description: "Where one of the task's actions stands (approved and done, denied, expired…).",
});
