import { z } from 'zod';
import {
  actionTypeSchema,
  connectionIdSchema,
  taskIdSchema,
  tenantIdSchema,
  timestampSchema,
  userIdSchema,
} from './common.js';

/** Signature purpose of a capability (`signJson(claims, CAPABILITY_PURPOSE, gatewayKey)`). */
export const CAPABILITY_PURPOSE = 'gateway.capability';

const domain = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'is not a domain');

/** What a task may do beyond its list of actions: the ceilings the gateway enforces. */
export const capabilityLimitsSchema = z.strictObject({
  /** Total spend over the task, in minor units of one currency. */
  spend: z
    .strictObject({
      maxMinor: z.number().int().min(1).max(100_000_000),
      currency: z.string().regex(/^[A-Z]{3}$/, 'is not an ISO 4217 currency code'),
    })
    .optional(),
  /** Only addresses in these domains may be written to (mail, invitations). */
  recipientDomains: z.array(domain).min(1).max(50).optional(),
  /** Only these addresses may be written to. */
  recipients: z.array(z.email().max(320).toLowerCase()).min(1).max(200).optional(),
  /** At most this many actions over the task. */
  maxActions: z.number().int().min(1).max(10_000).optional(),
});
export type CapabilityLimits = z.infer<typeof capabilityLimitsSchema>;

/**
 * What a capability grants: one task of one person in one tenant, these action types, this
 * connected account, within these limits, until it expires (or the task is stopped). The token
 * the agent carries is `<base64url canonical JSON of the claims>.<base64url Ed25519 signature>`.
 */
export const capabilityClaimsSchema = z.strictObject({
  v: z.literal(1),
  /** The capability's id (a stopped task's capabilities are all revoked). */
  id: z.uuid(),
  /** The gateway key that signed it. */
  kid: z.string().min(1).max(128),
  tenantId: tenantIdSchema,
  userId: userIdSchema,
  taskId: taskIdSchema,
  actions: z.array(actionTypeSchema).min(1).max(50),
  /** The connected account the task acts through (a person may have several). */
  connectionId: connectionIdSchema.optional(),
  limits: capabilityLimitsSchema,
  issuedAt: timestampSchema,
  expiresAt: timestampSchema,
});
export type CapabilityClaims = z.infer<typeof capabilityClaimsSchema>;

/**
 * What a capability token says, WITHOUT checking its signature: for the agent, which plans with
 * the actions and limits it was given. Only the gateway's verification decides anything; a
 * malformed token gives undefined.
 */
export function readCapabilityClaims(token: string): CapabilityClaims | undefined {
  const [encoded, signature, extra] = token.split('.');
  if (encoded === undefined || signature === undefined || extra !== undefined) return undefined;
  try {
    const parsed = capabilityClaimsSchema.safeParse(
      JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
