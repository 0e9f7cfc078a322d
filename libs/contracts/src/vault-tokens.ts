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
import { defineEvent, defineRpc } from './define.js';

/** What the gateway asks for: an access token for one connection, limited to some scopes. */
export const tokenGrantRequestSchema = z.strictObject({
  tenantId: tenantIdSchema,
  userId: userIdSchema,
  connectionId: connectionIdSchema,
  scopes: z.array(oauthScopeSchema).min(1).max(32),
  /**
   * Unique per request. vault-proxy does not record it: within the skew window a replay gets only
   * another answer sealed to the gateway (see its GrantVerifier); past it, FORBIDDEN.
   */
  requestId: z.uuid(),
  issuedAt: timestampSchema,
});
export type TokenGrantRequest = z.infer<typeof tokenGrantRequestSchema>;

/** Signature purpose for {@link issueToken} requests. */
export const TOKEN_REQUEST_PURPOSE = 'vault.tokens.issue';
/** Sealed-box purpose for the access token in an {@link issueToken} answer. */
export const SEALED_TOKEN_PURPOSE = 'vault.tokens.issue/access-token';

/**
 * `vault.tokens.issue`: the gateway, and only the gateway, asks vault-proxy for a short-lived
 * access token. The request is signed by the gateway's key; the token comes back sealed to the
 * gateway's X25519 key and is never in clear on NATS.
 */
export const issueToken = defineRpc({
  subject: 'vault.tokens.issue',
  request: z.strictObject({
    grant: tokenGrantRequestSchema,
    signature: jsonSignatureSchema,
  }),
  response: z.object({
    token: sealedBoxSchema,
    tokenType: z.literal('Bearer'),
    scopes: z.array(oauthScopeSchema),
    expiresAt: timestampSchema,
  }),
  errors: [
    'SIGNATURE_INVALID',
    'FORBIDDEN',
    'CONNECTION_NOT_FOUND',
    'CONNECTION_REVOKED',
    'CONNECTION_BROKEN',
    'SCOPE_NOT_GRANTED',
    'PROVIDER_UNAVAILABLE',
    'SECRETS_UNAVAILABLE',
  ],
  callers: ['gateway'],
  description: 'The gateway asks vault-proxy for a sealed, short-lived access token.',
});

/** Why a connection's tokens may no longer be served from any cache. */
export const CONNECTION_CHANGES = ['revoked', 'erased', 'regranted', 'broken'] as const;

/**
 * `vault.connections.changed`: vault-proxy tells every gateway replica that a connection's access
 * tokens may no longer be served from a cache: it is being revoked or erased, its grant was
 * replaced (re-consent), or the provider refused its refresh token. vault-proxy publishes it, and
 * flushes it to the NATS server, before it answers the call that made the change; only
 * vault-proxy may publish it (deploy/nats). A lost event costs at most the gateway cache's
 * maximum age (`TOKEN_CACHE_MAX_AGE_S`).
 */
export const vaultConnectionsChanged = defineEvent({
  subjectPattern: 'vault.connections.changed',
  payload: z.strictObject({
    tenantId: tenantIdSchema,
    connectionId: connectionIdSchema,
    change: z.enum(CONNECTION_CHANGES),
  }),
  description:
    "A connection's cached access tokens must go: every gateway replica drops them at once.",
});
