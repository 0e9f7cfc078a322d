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

/**
 * A revocation at the provider (RFC 7009), retried until the provider confirms: pending, then
 * completed with its receipt (when, after how many attempts, what the provider answered). It
 * never names the account or carries a token.
 */
export const revocationSchema = z.object({
  id: z.uuid(),
  tenantId: tenantIdSchema,
  userId: userIdSchema,
  connectionId: connectionIdSchema,
  provider: providerSchema,
  /** The scopes whose grant was revoked. */
  scopes: z.array(oauthScopeSchema),
  reason: z.enum(['disconnect', 'erase_person', 'erase_tenant']),
  status: z.enum(['pending', 'completed']),
  requestedAt: timestampSchema,
  attempts: z.number().int().nonnegative(),
  /** While pending: when the provider is asked next, and why the last attempt failed. */
  nextAttemptAt: timestampSchema.optional(),
  lastError: z.string().max(300).optional(),
  completedAt: timestampSchema.optional(),
  /** The HTTP status of the provider's final answer (absent when no token was stored). */
  providerStatus: z.number().int().optional(),
  /** `revoked` (200), `already_invalid` (the provider says the token was dead), `no_token_stored`. */
  providerAnswer: z.enum(['revoked', 'already_invalid', 'no_token_stored']).optional(),
});
export type Revocation = z.infer<typeof revocationSchema>;

/** A connected account as anyone but vault-proxy may see it: never a token. */
export const connectionSchema = z.object({
  id: connectionIdSchema,
  tenantId: tenantIdSchema,
  userId: userIdSchema,
  provider: providerSchema,
  account: z.string(),
  scopes: z.array(oauthScopeSchema),
  /** `revoking`: refused for use, its refresh token kept until the provider confirms revocation. */
  status: z.enum(['active', 'needs_consent', 'revoking', 'revoked']),
  createdAt: timestampSchema,
  lastUsedAt: timestampSchema.optional(),
  revokedAt: timestampSchema.optional(),
  /** The latest revocation of this connection, pending or with its receipt. */
  revocation: revocationSchema.optional(),
});
export type Connection = z.infer<typeof connectionSchema>;

/** Sealed-box purpose of a data key's plaintext handed to the gateway (vault-proxy → gateway). */
export const SEALED_DATA_KEY_PURPOSE = 'vault.datakeys/plaintext';

const SECRETS_ERRORS = ['SIGNATURE_INVALID', 'FORBIDDEN', 'SECRETS_UNAVAILABLE'] as const;

/** `vault.connections.list`: a tenant's connections, or one person's. */
export const listConnections = defineRpc({
  subject: 'vault.connections.list',
  request: z.strictObject({ tenantId: tenantIdSchema, userId: userIdSchema.optional() }),
  response: z.object({ connections: z.array(connectionSchema) }),
  errors: [],
  callers: ['gateway'],
  description: 'Lists connected accounts, never their tokens.',
});

/**
 * `vault.connections.revoke`: the connection becomes `revoking` at once (no token is issued for it
 * any more, on any replica) and a durable revocation is queued: the provider is asked (RFC 7009)
 * with backoff until it confirms, then every stored version is deleted and the connection is
 * `revoked`. Asking again while it is pending answers the same revocation.
 */
export const revokeConnection = defineRpc({
  subject: 'vault.connections.revoke',
  request: signedGrant({ tenantId: tenantIdSchema, connectionId: connectionIdSchema }),
  response: z.object({ connection: connectionSchema, revocation: revocationSchema }),
  errors: [...SECRETS_ERRORS, 'CONNECTION_NOT_FOUND'],
  callers: ['gateway'],
  description:
    'Queues the revocation of a connection at the provider; its secrets go once it confirms.',
});

/**
 * `vault.subjects.erase`: a person's or a whole tenant's key-encryption keys are destroyed at once
 * (crypto-shredding); their connections are queued for revocation and deleted, with their
 * refresh tokens, once the provider confirms.
 */
export const eraseSubject = defineRpc({
  subject: 'vault.subjects.erase',
  request: signedGrant({ tenantId: tenantIdSchema, userId: userIdSchema.optional() }),
  response: z.object({
    /** Connections now `revoking`: deleted when the provider confirms (see the receipts). */
    revocationsQueued: z.number().int().nonnegative(),
    keysDeleted: z.number().int().nonnegative(),
  }),
  errors: [...SECRETS_ERRORS],
  callers: ['gateway'],
  description:
    "Destroys a user's (or tenant's) data keys now, and queues their connections' revocation.",
});

/** `vault.revocations.receipts`: completed revocations not yet acknowledged, oldest first. */
export const listRevocationReceipts = defineRpc({
  subject: 'vault.revocations.receipts',
  request: z.strictObject({ limit: z.number().int().min(1).max(100).default(50) }),
  response: z.object({ receipts: z.array(revocationSchema) }),
  errors: [],
  callers: ['gateway'],
  description: 'Deletion receipts waiting to become audit events.',
});

/**
 * `vault.revocations.acknowledge`: the gateway recorded these receipts as audit events; they are
 * no longer listed. Acknowledging one twice, or an unknown one, is harmless.
 */
export const acknowledgeRevocationReceipts = defineRpc({
  subject: 'vault.revocations.acknowledge',
  request: signedGrant({ receiptIds: z.array(z.uuid()).min(1).max(100) }),
  response: z.object({ acknowledged: z.number().int().nonnegative() }),
  errors: ['SIGNATURE_INVALID', 'FORBIDDEN'],
  callers: ['gateway'],
  description: 'Marks deletion receipts as recorded in the audit log.',
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

/** Who the provider says signed in, from an ID token vault-proxy checked claim by claim. */
export const verifiedIdentitySchema = z.object({
  provider: providerSchema,
  issuer: z.string().min(1).max(200),
  subject: z.string().min(1).max(255),
  email: z.string().max(320),
  emailVerified: z.boolean(),
  displayName: z.string().max(200).nullable(),
});

/**
 * `vault.oauth.exchange`: the gateway hands over an authorization code from a callback whose
 * state it verified, with the flow's PKCE verifier, redirect URI and nonce; vault-proxy alone
 * holds the provider's client secret and calls the token endpoint. For `sign_in` it answers the
 * identity and keeps no token (none is asked for; one that comes anyway is dropped, not stored);
 * for `connect` it stores the refresh token and answers the connection with exactly the scopes
 * granted.
 */
export const exchangeCode = defineRpc({
  subject: 'vault.oauth.exchange',
  request: signedGrant({
    provider: providerSchema,
    code: z.string().min(1).max(2048),
    /** RFC 7636: 43 to 128 unreserved characters. */
    codeVerifier: z.string().regex(/^[A-Za-z0-9._~-]{43,128}$/),
    redirectUri: z.url({ protocol: /^https?$/ }).max(2048),
    nonce: z.string().min(16).max(128),
    intent: z.discriminatedUnion('purpose', [
      z.strictObject({ purpose: z.literal('sign_in') }),
      z.strictObject({
        purpose: z.literal('connect'),
        tenantId: tenantIdSchema,
        userId: userIdSchema,
        /** What the flow asked for: at least one of them must be granted. */
        requestedScopes: z.array(oauthScopeSchema).min(1).max(64),
      }),
    ]),
  }),
  response: z.object({
    identity: verifiedIdentitySchema,
    /** The scopes the provider says it granted (its token response's `scope`). */
    grantedScopes: z.array(oauthScopeSchema),
    connection: z.object({ connection: connectionSchema, created: z.boolean() }).optional(),
  }),
  errors: [
    ...SECRETS_ERRORS,
    'OAUTH_STATE_INVALID',
    'OAUTH_DENIED',
    'PROVIDER_UNAVAILABLE',
    'CONFLICT',
  ],
  callers: ['gateway'],
  description:
    'Exchanges an OAuth authorization code; the client secret and tokens stay in vault-proxy.',
});
