import { z } from 'zod';
import {
  actionTypeSchema,
  jsonSignatureSchema,
  serviceNameSchema,
  taskIdSchema,
  tenantIdSchema,
  timestampSchema,
  userIdSchema,
} from './common.js';
import { defineEvent } from './define.js';

/** Who did it: a person, the agent on their behalf, or a service on its own account. */
export const auditActorSchema = z.strictObject({
  type: z.enum(['user', 'agent', 'service']),
  id: z.string().min(1).max(128),
});

/** The policy decision behind an action: which policy decided, what, and why. */
export const policyDecisionSchema = z.strictObject({
  effect: z.enum(['allow', 'deny', 'require_approval']),
  policyId: z.string().min(1).max(200),
  /**
   * Absent from events recorded since personal data is sealed: a reason may name what it is about
   * (an address found in a mail), so it travels in `personal` as `policyReason`.
   */
  reason: z.string().max(2000).optional(),
});

/** Which data key encrypted an event's personal fields: the tenant's, or one person's. */
export const dataKeyRefSchema = z.strictObject({
  scope: z.enum(['tenant', 'user']),
  id: z.uuid(),
  version: z.number().int().positive(),
});

/**
 * An event's personal fields (addresses, subjects, names…), as one JSON object encrypted with
 * `encryptValue` under the referenced data key, with the context `audit-event:<event id>`. The
 * producer encrypts before signing, so the signature and the chain cover the ciphertext: deleting
 * the key erases the fields, and the record still verifies.
 */
export const personalFieldsSchema = z.strictObject({
  key: dataKeyRefSchema,
  ciphertext: z
    .string()
    .max(65_536)
    .regex(
      /^hae1\.[1-9][0-9]*\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/,
      'is not an envelope ciphertext',
    ),
});

/**
 * What a producer puts in an event's personal fields: the agent's rationale, the policy's reason,
 * and any other words of or about a person (each field optional, nothing else).
 */
export const personalFieldsContentSchema = z.strictObject({
  rationale: z.string().max(2000).optional(),
  policyReason: z.string().max(2000).optional(),
  /** Other personal details of the event (addresses, names, subjects), by name. */
  details: z.record(z.string(), z.json()).optional(),
});
export type PersonalFieldsContent = z.infer<typeof personalFieldsContentSchema>;

/** The encryption context of an event's personal fields. */
export function personalFieldsContext(eventId: string): string {
  return `audit-event:${eventId}`;
}

/** The longest user agent an audit event keeps; longer ones are cut (they are free text). */
export const CLIENT_USER_AGENT_MAX = 512;

/**
 * Where the HTTP request that caused an event came from: the client's address (as the gateway's
 * trusted-proxy setting reads it) and its user agent. Security evidence, kept in clear like
 * CloudTrail's `sourceIPAddress`: signed and chained with the event, exported to SIEMs.
 */
export const clientContextSchema = z.strictObject({
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  userAgent: z.string().min(1).max(CLIENT_USER_AGENT_MAX).optional(),
});
export type ClientContext = z.infer<typeof clientContextSchema>;

/**
 * One thing that happened, as audit stores it. Nothing personal travels in clear: personal
 * fields go in `personal`, encrypted per tenant or per user, so erasing a key erases them while
 * the chain, computed over ciphertext, stays verifiable.
 */
export const auditEventSchema = z.strictObject({
  /** Also the JetStream `Nats-Msg-Id`, so a republished event is stored once. */
  id: z.uuid(),
  tenantId: tenantIdSchema,
  occurredAt: timestampSchema,
  /** Dotted name such as `action.executed`, `action.undone`, `connection.revoked`, `session.started`. */
  name: z
    .string()
    .regex(/^[a-z]+(\.[a-z_]+)+$/)
    .max(100),
  source: serviceNameSchema,
  actor: auditActorSchema,
  userId: userIdSchema.optional(),
  taskId: taskIdSchema.optional(),
  action: actionTypeSchema.optional(),
  outcome: z.enum(['success', 'failure', 'denied', 'pending']),
  /** In clear only in events recorded before personal data was sealed: now in `personal`. */
  rationale: z.string().max(2000).optional(),
  policy: policyDecisionSchema.optional(),
  /** The event this one undoes or follows up (an undo names its original). */
  relatedEventId: z.uuid().optional(),
  /** W3C trace id, to find the request that caused it. */
  traceId: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
  /** The HTTP client that caused it, when a request did (not for the agent's or a job's events). */
  client: clientContextSchema.optional(),
  /** Event-specific details that are not personal (ids, counts, types, amounts). */
  data: z.record(z.string(), z.json()),
  personal: personalFieldsSchema.optional(),
});
export type AuditEvent = z.infer<typeof auditEventSchema>;

/** Signature purpose for audit events. */
export const AUDIT_EVENT_PURPOSE = 'audit.event';

/**
 * The largest signed audit event, in bytes, as it travels (its JSON): what the audit stream
 * accepts, and what a producer refuses to write. The largest legitimate envelope is well under
 * 100 KiB: personal fields are at most 64 KiB of ciphertext, rationale and policy reason at most
 * 2,000 characters each, and the rest ids, codes, amounts and a signature. 256 KiB leaves more
 * than twice that, and keeps one refused message small.
 */
export const AUDIT_EVENT_MAX_BYTES = 256 * 1024;

/** An audit event and its signature by the emitting service's key (`signJson(event, AUDIT_EVENT_PURPOSE)`). */
export const signedAuditEventSchema = z.strictObject({
  event: auditEventSchema,
  signature: jsonSignatureSchema,
});
export type SignedAuditEvent = z.infer<typeof signedAuditEventSchema>;

/** `audit.events.<tenant>`: JetStream subject of one tenant's signed audit events. */
export const auditEventRecorded = defineEvent({
  subjectPattern: 'audit.events.*',
  payload: signedAuditEventSchema,
  description: 'A service records a signed audit event for a tenant (published via its outbox).',
});

/** The JetStream subject for one tenant's audit events. */
export function auditEventSubject(tenantId: string): string {
  const parsed = tenantIdSchema.safeParse(tenantId);
  if (!parsed.success) throw new Error('audit event subjects are keyed by a tenant UUID');
  return `audit.events.${parsed.data}`;
}
