import { z } from 'zod';
import {
  connectionIdSchema,
  jsonSignatureSchema,
  oauthScopeSchema,
  sealedBoxSchema,
  tenantIdSchema,
  timestampSchema,
  userIdSchema,
} from './common.js';
import { dataKeyRefSchema } from './audit-events.js';
import { defineRpc } from './define.js';

/**
 * Every request to vault-proxy that carries authority is a `grant` signed by the gateway's key
 * (`signJson(grant, <subject>, gatewayKey)`), unique by `requestId` and fresh by `issuedAt`, so a
 * captured request can neither be altered nor replayed.
 */
export function signedGrant<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject({
    grant: z.strictObject({ ...shape, requestId: z.uuid(), issuedAt: timestampSchema }),
    signature: jsonSignatureSchema,
  });
}

/** The identity providers whose tokens vault-proxy can hold. */
export const PROVIDERS = ['google'] as const;
export const providerSchema = z.enum(PROVIDERS);

/** A connected account as anyone but vault-proxy may see it: never a token. */
export const connectionSchema = z.object({
  id: connectionIdSchema,
  tenantId: tenantIdSchema,
  userId: userIdSchema,
  provider: providerSchema,
  account: z.string(),
  scopes: z.array(oauthScopeSchema),
  status: z.enum(['active', 'needs_consent', 'revoked']),
  createdAt: timestampSchema,
  lastUsedAt: timestampSchema.optional(),
  revokedAt: timestampSchema.optional(),
});
export type Connection = z.infer<typeof connectionSchema>;

/** Sealed-box purpose of a refresh token handed to vault-proxy (gateway → vault-proxy). */
export const SEALED_REFRESH_TOKEN_PURPOSE = 'vault.connections.store/refresh-token';
/** Sealed-box purpose of a data key's plaintext handed to the gateway (vault-proxy → gateway). */
export const SEALED_DATA_KEY_PURPOSE = 'vault.datakeys/plaintext';

const SECRETS_ERRORS = ['SIGNATURE_INVALID', 'FORBIDDEN', 'SECRETS_UNAVAILABLE'] as const;

/**
 * `vault.connections.store`: after an OAuth callback, the gateway hands vault-proxy the refresh
 * token, sealed to vault-proxy's key. A new connection id creates the connection; an existing one
 * (re-consent, more scopes) replaces its token and scopes.
 */
export const storeConnection = defineRpc({
  subject: 'vault.connections.store',
  request: signedGrant({
    tenantId: tenantIdSchema,
    userId: userIdSchema,
    connectionId: connectionIdSchema,
    provider: providerSchema,
    account: z.string().min(1).max(320),
    scopes: z.array(oauthScopeSchema).min(1).max(64),
    refreshToken: sealedBoxSchema,
  }),
  response: connectionSchema,
  errors: [...SECRETS_ERRORS, 'CONFLICT'],
  callers: ['gateway'],
  description: 'Stores (or replaces) the refresh token of a connected account.',
});

/** `vault.connections.list`: a tenant's connections, or one person's. */
export const listConnections = defineRpc({
  subject: 'vault.connections.list',
  request: z.strictObject({ tenantId: tenantIdSchema, userId: userIdSchema.optional() }),
  response: z.object({ connections: z.array(connectionSchema) }),
  errors: [],
  callers: ['gateway'],
  description: 'Lists connected accounts, never their tokens.',
});

/** `vault.connections.revoke`: revokes at the provider (RFC 7009), deletes every stored version. */
export const revokeConnection = defineRpc({
  subject: 'vault.connections.revoke',
  request: signedGrant({ tenantId: tenantIdSchema, connectionId: connectionIdSchema }),
  response: z.object({ connection: connectionSchema, providerRevoked: z.boolean() }),
  errors: [...SECRETS_ERRORS, 'CONNECTION_NOT_FOUND'],
  callers: ['gateway'],
  description: 'Revokes a connection at the provider and deletes its secrets.',
});

/** `vault.subjects.erase`: deletes every secret and key of a person, or of a whole tenant. */
export const eraseSubject = defineRpc({
  subject: 'vault.subjects.erase',
  request: signedGrant({ tenantId: tenantIdSchema, userId: userIdSchema.optional() }),
  response: z.object({
    connectionsRevoked: z.number().int().nonnegative(),
    keysDeleted: z.number().int().nonnegative(),
  }),
  errors: [...SECRETS_ERRORS],
  callers: ['gateway'],
  description: "Deletes all of a user's (or tenant's) secrets and data keys: crypto-shredding.",
});

/** `vault.datakeys.create`: a new data key for a tenant or a person, wrapped by their key-encryption key. */
export const createDataKey = defineRpc({
  subject: 'vault.datakeys.create',
  request: signedGrant({
    tenantId: tenantIdSchema,
    owner: dataKeyRefSchema.omit({ version: true }),
  }),
  response: z.object({
    key: dataKeyRefSchema,
    wrapped: z.string().max(4096),
    plaintext: sealedBoxSchema,
  }),
  errors: [...SECRETS_ERRORS],
  callers: ['gateway'],
  description: 'Creates a data key; its plaintext comes back sealed to the gateway.',
});

/** `vault.datakeys.open`: unwraps a data key for the gateway (sealed to it). */
export const openDataKey = defineRpc({
  subject: 'vault.datakeys.open',
  request: signedGrant({
    tenantId: tenantIdSchema,
    owner: dataKeyRefSchema.omit({ version: true }),
    wrapped: z.string().min(1).max(4096),
  }),
  response: z.object({ plaintext: sealedBoxSchema }),
  errors: [...SECRETS_ERRORS, 'NOT_FOUND'],
  callers: ['gateway'],
  description: 'Unwraps a data key; refused once its owner was erased.',
});
