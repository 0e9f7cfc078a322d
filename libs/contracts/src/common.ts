import { z } from 'zod';

/** The four HeroAgent services. */
export const SERVICE_NAMES = ['gateway', 'agent', 'vault-proxy', 'audit'] as const;
export const serviceNameSchema = z.enum(SERVICE_NAMES);
export type ServiceName = z.infer<typeof serviceNameSchema>;

/** Tenant, user, task and connection ids are UUIDs. */
export const tenantIdSchema = z.uuid();
export const userIdSchema = z.uuid();
export const taskIdSchema = z.uuid();
export const connectionIdSchema = z.uuid();

/** An RFC 3339 timestamp with an offset (normally Z). */
export const timestampSchema = z.iso.datetime({ offset: true });

const base64Url = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be unpadded base64url');

/** A detached Ed25519 signature over canonical JSON (libs/crypto `signJson`). */
export const jsonSignatureSchema = z.strictObject({
  alg: z.literal('Ed25519'),
  kid: z.string().min(1).max(128),
  sig: base64Url(86, 86),
});

/** A sealed box (libs/crypto `seal`): only the named recipient can open it. */
export const sealedBoxSchema = z.strictObject({
  v: z.literal(1),
  alg: z.literal('X25519-HKDF-SHA256-A256GCM'),
  epk: base64Url(43, 43),
  iv: base64Url(16, 16),
  ct: z
    .string()
    .max(65_536)
    .regex(/^[A-Za-z0-9_-]*$/, 'must be unpadded base64url'),
  tag: base64Url(22, 22),
});

/**
 * A capability as the agent carries it: an opaque, gateway-signed token
 * (`<base64url claims>.<base64url signature>`). Only the gateway reads it.
 */
export const capabilityTokenSchema = z
  .string()
  .max(8192)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'is not a capability token');

/** A catalog action type such as `gmail.messages.send` or `calendar.events.create`. */
export const actionTypeSchema = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*){1,3}$/, 'is not an action type');

/** An OAuth scope as the provider spells it (a URL for Google, a word elsewhere). */
export const oauthScopeSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'is not an OAuth scope (RFC 6749 §3.3)');
