import { z } from 'zod';
import { tenantRoleSchema } from './audit-records.js';
import { connectionIdSchema, tenantIdSchema, timestampSchema, userIdSchema } from './common.js';
import { defineRoute } from './http-route.js';
import { actors, everyone, idParams, managers, overseers } from './gateway-http-access.js';
import {
  getAgentsSwitch,
  listTasks,
  pauseAgents,
  previewTask,
  resumeAgents,
  startTask,
  stopTask,
  listTaskEvents,
  getAgentSettings,
  saveAgentSettings,
} from './gateway-http-tasks.js';
import { POLICY_SIMULATION_ROUTES } from './gateway-http-policy-simulation.js';
import { RECORD_ROUTES } from './gateway-http-records.js';
import { RETENTION_ROUTES } from './gateway-http-retention.js';
import { connectionSchema } from './vault-connections.js';

/**
 * The gateway's HTTP API, part 1: sign-in, sessions, tenants and roles, invitations, connected
 * accounts, and a person's export and account closure. Paths are versioned under `/v1`.
 */

/** Identity providers people sign in with. */
export const SIGN_IN_PROVIDERS = ['google', 'oidc'] as const;
export const signInProviderSchema = z.enum(SIGN_IN_PROVIDERS);
export type SignInProvider = z.infer<typeof signInProviderSchema>;

/**
 * Where to send the browser after a flow: a path on this origin only. No scheme, no host, no
 * `//` or `/\` (which browsers read as another host), no control characters.
 */
export const returnToSchema = z
  .string()
  .max(512)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
  .regex(/^\/(?![/\\])[^\\\s\x00-\x1f\x7f]*$/, 'must be a path on this site, such as /settings')
  .default('/');

/** Named bundles of Google scopes a person can grant to HeroAgent. */
export const GOOGLE_SCOPE_BUNDLES = {
  'gmail.read': 'https://www.googleapis.com/auth/gmail.readonly',
  'gmail.send': 'https://www.googleapis.com/auth/gmail.send',
  'gmail.modify': 'https://www.googleapis.com/auth/gmail.modify',
  'calendar.read': 'https://www.googleapis.com/auth/calendar.readonly',
  'calendar.events': 'https://www.googleapis.com/auth/calendar.events',
} as const;
export type GoogleScopeBundle = keyof typeof GOOGLE_SCOPE_BUNDLES;
const scopeBundleSchema = z.enum(
  Object.keys(GOOGLE_SCOPE_BUNDLES) as [GoogleScopeBundle, ...GoogleScopeBundle[]],
);

const emailSchema = z.email().max(320);
const confirmationSchema = z.string().min(1).max(320);

export const userViewSchema = z.object({
  id: userIdSchema,
  email: z.string(),
  displayName: z.string().nullable(),
});
export const tenantViewSchema = z.object({
  id: tenantIdSchema,
  name: z.string(),
  role: tenantRoleSchema,
});
export const sessionViewSchema = z.object({
  user: userViewSchema,
  tenant: tenantViewSchema.nullable(),
  /** Send it back in `x-csrf-token` with every request that changes something. */
  csrfToken: z.string(),
  expiresAt: timestampSchema,
  idleExpiresAt: timestampSchema,
});
export const sessionSummarySchema = z.object({
  id: z.uuid(),
  current: z.boolean(),
  createdAt: timestampSchema,
  lastSeenAt: timestampSchema,
  expiresAt: timestampSchema,
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
});
export const memberViewSchema = z.object({
  userId: userIdSchema,
  email: z.string(),
  displayName: z.string().nullable(),
  role: tenantRoleSchema,
  joinedAt: timestampSchema,
});
export const invitationViewSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role: tenantRoleSchema,
  invitedBy: userIdSchema,
  createdAt: timestampSchema,
  expiresAt: timestampSchema,
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
});
/** A connection as its owner and their tenant's admins see it: never a token. */
export const connectionViewSchema = connectionSchema.extend({
  /** `revoking`: unusable now, waiting for the provider to confirm (see `revocation`). */
  health: z.enum(['working', 'needs_consent', 'revoking', 'revoked']),
});

const userParams = z.strictObject({ userId: userIdSchema });

// ---- Public: probes, the API description, sign-in -------------------------------------------

export const healthz = defineRoute({
  id: 'healthz',
  method: 'GET',
  path: '/healthz',
  summary: 'The process serves HTTP.',
  access: 'public',
  outcome: { kind: 'json', status: 200, schema: z.object({ status: z.literal('alive') }) },
  errors: [],
});

export const readyz = defineRoute({
  id: 'readyz',
  method: 'GET',
  path: '/readyz',
  summary: 'Postgres, NATS, vault-proxy and audit are reachable.',
  access: 'public',
  outcome: { kind: 'json', status: 200, schema: z.object({ status: z.string() }).loose() },
  errors: ['UNAVAILABLE'],
});

export const openApiDocument = defineRoute({
  id: 'openapi',
  method: 'GET',
  path: '/v1/openapi.json',
  summary: 'This API, as OpenAPI 3.1.',
  access: 'public',
  outcome: { kind: 'json', status: 200, schema: z.object({ openapi: z.string() }).loose() },
  errors: [],
});

export const listSignInProviders = defineRoute({
  id: 'auth.providers',
  method: 'GET',
  path: '/v1/auth/providers',
  summary: 'The identity providers people can sign in with here.',
  access: 'public',
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({
      providers: z.array(z.object({ id: signInProviderSchema, name: z.string() })),
    }),
  },
  errors: [],
});

export const startSignIn = defineRoute({
  id: 'auth.start',
  method: 'GET',
  path: '/v1/auth/:provider/start',
  summary: 'Starts signing in: redirects to the identity provider (state, PKCE, nonce).',
  access: 'public',
  params: z.strictObject({ provider: signInProviderSchema }),
  query: z.strictObject({ returnTo: returnToSchema, invitation: z.string().max(128).optional() }),
  outcome: { kind: 'redirect' },
  errors: ['NOT_FOUND'],
  rateLimitPerMinute: 30,
});

const callbackQuery = z
  .object({
    code: z.string().min(1).max(2048).optional(),
    state: z.string().min(1).max(256).optional(),
    error: z.string().max(256).optional(),
    error_description: z.string().max(1024).optional(),
  })
  .loose();

export const finishSignIn = defineRoute({
  id: 'auth.callback',
  method: 'GET',
  path: '/v1/auth/:provider/callback',
  summary: 'The identity provider sends the browser back here; a session starts.',
  access: 'public',
  params: z.strictObject({ provider: signInProviderSchema }),
  query: callbackQuery,
  outcome: { kind: 'redirect' },
  errors: ['OAUTH_STATE_INVALID', 'OAUTH_DENIED', 'PROVIDER_UNAVAILABLE', 'FORBIDDEN', 'NOT_FOUND'],
  rateLimitPerMinute: 30,
});

// ---- Signed in: the session and the person ---------------------------------------------------

export const getSession = defineRoute({
  id: 'session.get',
  method: 'GET',
  path: '/v1/session',
  summary: 'Who is signed in, in which tenant with which role, and the CSRF token.',
  access: 'signed-in',
  outcome: { kind: 'json', status: 200, schema: sessionViewSchema },
  errors: ['UNAUTHENTICATED'],
});

export const signOut = defineRoute({
  id: 'session.sign-out',
  method: 'POST',
  path: '/v1/session/sign-out',
  summary: 'Ends this session.',
  access: 'signed-in',
  outcome: { kind: 'no-content' },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID'],
});

export const switchTenant = defineRoute({
  id: 'session.tenant',
  method: 'POST',
  path: '/v1/session/tenant',
  summary: 'Acts in another tenant this person belongs to.',
  access: 'signed-in',
  body: z.strictObject({ tenantId: tenantIdSchema }),
  outcome: { kind: 'json', status: 200, schema: sessionViewSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'NOT_FOUND'],
});

export const listMySessions = defineRoute({
  id: 'me.sessions.list',
  method: 'GET',
  path: '/v1/me/sessions',
  summary: "This person's sessions.",
  access: 'signed-in',
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({ sessions: z.array(sessionSummarySchema) }),
  },
  errors: ['UNAUTHENTICATED'],
});

export const endMySession = defineRoute({
  id: 'me.sessions.end',
  method: 'DELETE',
  path: '/v1/me/sessions/:id',
  summary: "Ends one of this person's sessions (another device).",
  access: 'signed-in',
  params: idParams,
  outcome: { kind: 'no-content' },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'NOT_FOUND'],
});

export const listMyTenants = defineRoute({
  id: 'me.tenants',
  method: 'GET',
  path: '/v1/me/tenants',
  summary: 'The tenants this person belongs to, and their role in each.',
  access: 'signed-in',
  outcome: { kind: 'json', status: 200, schema: z.object({ tenants: z.array(tenantViewSchema) }) },
  errors: ['UNAUTHENTICATED'],
});

export const createTenant = defineRoute({
  id: 'tenants.create',
  method: 'POST',
  path: '/v1/tenants',
  summary: 'Creates a tenant owned by this person, and acts in it.',
  access: 'signed-in',
  body: z.strictObject({ name: z.string().trim().min(1).max(200) }),
  outcome: { kind: 'json', status: 201, schema: sessionViewSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN'],
  rateLimitPerMinute: 10,
});

export const acceptInvitation = defineRoute({
  id: 'invitations.accept',
  method: 'POST',
  path: '/v1/invitations/accept',
  summary: 'Joins the tenant an invitation to this person’s verified email is for.',
  access: 'signed-in',
  body: z.strictObject({ token: z.string().min(16).max(128) }),
  outcome: { kind: 'json', status: 200, schema: sessionViewSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'INVITATION_INVALID', 'FORBIDDEN'],
  rateLimitPerMinute: 10,
});

export const exportMyData = defineRoute({
  id: 'me.export',
  method: 'GET',
  path: '/v1/me/export',
  summary: 'Everything HeroAgent holds about this person, as JSON.',
  access: 'signed-in',
  outcome: { kind: 'json', status: 200, schema: z.object({ format: z.string() }).loose() },
  errors: ['UNAUTHENTICATED', 'SECRETS_UNAVAILABLE', 'UNAVAILABLE'],
  rateLimitPerMinute: 6,
});

export const closeMyAccount = defineRoute({
  id: 'me.close',
  method: 'POST',
  path: '/v1/me/close',
  summary:
    'Closes this account: revokes every connection, deletes its secrets, destroys its data key, and records it in audit.',
  access: 'signed-in',
  body: z.strictObject({ confirm: confirmationSchema }),
  outcome: { kind: 'no-content' },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'INVALID_REQUEST', 'CONFLICT', 'SECRETS_UNAVAILABLE'],
  rateLimitPerMinute: 6,
});

// ---- In the current tenant ------------------------------------------------------------------

export const listMembers = defineRoute({
  id: 'tenant.members.list',
  method: 'GET',
  path: '/v1/tenant/members',
  summary: "The tenant's members and their roles.",
  access: overseers,
  outcome: { kind: 'json', status: 200, schema: z.object({ members: z.array(memberViewSchema) }) },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN'],
});

export const changeMemberRole = defineRoute({
  id: 'tenant.members.role',
  method: 'PATCH',
  path: '/v1/tenant/members/:userId',
  summary: "Changes a member's role (only an owner makes or unmakes owners; one owner remains).",
  access: managers,
  params: userParams,
  body: z.strictObject({ role: tenantRoleSchema }),
  outcome: { kind: 'json', status: 200, schema: memberViewSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'],
});

export const removeMember = defineRoute({
  id: 'tenant.members.remove',
  method: 'DELETE',
  path: '/v1/tenant/members/:userId',
  summary: 'Removes a member from the tenant and revokes their connections in it.',
  access: managers,
  params: userParams,
  outcome: { kind: 'no-content' },
  errors: [
    'UNAUTHENTICATED',
    'CSRF_INVALID',
    'FORBIDDEN',
    'NOT_FOUND',
    'CONFLICT',
    'SECRETS_UNAVAILABLE',
  ],
});

export const listInvitations = defineRoute({
  id: 'tenant.invitations.list',
  method: 'GET',
  path: '/v1/tenant/invitations',
  summary: "The tenant's invitations.",
  access: managers,
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({ invitations: z.array(invitationViewSchema) }),
  },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN'],
});

export const createInvitation = defineRoute({
  id: 'tenant.invitations.create',
  method: 'POST',
  path: '/v1/tenant/invitations',
  summary: 'Invites a person by email; the token is shown once.',
  access: managers,
  body: z.strictObject({
    email: emailSchema,
    role: z.enum(['admin', 'auditor', 'member']),
  }),
  outcome: {
    kind: 'json',
    status: 201,
    schema: z.object({
      invitation: invitationViewSchema,
      token: z.string(),
      acceptUrl: z.string(),
    }),
  },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'CONFLICT'],
  rateLimitPerMinute: 30,
});

export const revokeInvitation = defineRoute({
  id: 'tenant.invitations.revoke',
  method: 'DELETE',
  path: '/v1/tenant/invitations/:id',
  summary: 'Withdraws an invitation.',
  access: managers,
  params: idParams,
  outcome: { kind: 'no-content' },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'NOT_FOUND'],
});

export const closeTenant = defineRoute({
  id: 'tenant.close',
  method: 'POST',
  path: '/v1/tenant/close',
  summary:
    "Deletes the tenant: every member's connections revoked, every secret and key destroyed, recorded in audit.",
  access: { roles: ['owner'] },
  body: z.strictObject({ confirm: confirmationSchema }),
  outcome: { kind: 'no-content' },
  errors: [
    'UNAUTHENTICATED',
    'CSRF_INVALID',
    'FORBIDDEN',
    'INVALID_REQUEST',
    'SECRETS_UNAVAILABLE',
  ],
  rateLimitPerMinute: 6,
});

// ---- Connected accounts ---------------------------------------------------------------------

export const listMyConnections = defineRoute({
  id: 'connections.list',
  method: 'GET',
  path: '/v1/connections',
  summary:
    "Connected accounts: a member sees their own; an owner, admin or auditor may ask for a member's or all.",
  access: everyone,
  query: z.strictObject({ userId: z.union([userIdSchema, z.literal('all')]).optional() }),
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({ connections: z.array(connectionViewSchema) }),
  },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'UNAVAILABLE'],
});

export const startConnection = defineRoute({
  id: 'connections.start',
  method: 'GET',
  path: '/v1/connections/google/start',
  summary:
    'Connects a Google account (offline access, incremental scopes): redirects to Google for consent.',
  access: everyone,
  query: z.strictObject({
    scopes: z
      .string()
      .max(200)
      .transform((text) => text.split(',').filter(Boolean))
      .pipe(z.array(scopeBundleSchema).min(1).max(5)),
    returnTo: returnToSchema,
    loginHint: emailSchema.optional(),
  }),
  outcome: { kind: 'redirect' },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'],
  rateLimitPerMinute: 30,
});

export const finishConnection = defineRoute({
  id: 'connections.callback',
  method: 'GET',
  path: '/v1/connections/google/callback',
  summary:
    'Google sends the browser back here; the refresh token goes to vault-proxy, sealed, and is kept nowhere else.',
  access: everyone,
  query: callbackQuery,
  outcome: { kind: 'redirect' },
  errors: [
    'UNAUTHENTICATED',
    'FORBIDDEN',
    'NOT_FOUND',
    'OAUTH_STATE_INVALID',
    'OAUTH_DENIED',
    'PROVIDER_UNAVAILABLE',
    'SECRETS_UNAVAILABLE',
  ],
  rateLimitPerMinute: 30,
});

export const revokeMyConnection = defineRoute({
  id: 'connections.revoke',
  method: 'DELETE',
  path: '/v1/connections/:id',
  summary:
    'Revokes a connection at the provider and deletes its secret (its owner, or an owner or admin).',
  access: everyone,
  params: z.strictObject({ id: connectionIdSchema }),
  outcome: { kind: 'no-content' },
  errors: [
    'UNAUTHENTICATED',
    'CSRF_INVALID',
    'FORBIDDEN',
    'CONNECTION_NOT_FOUND',
    'SECRETS_UNAVAILABLE',
  ],
});

// ---- The tenant's policy ----------------------------------------------------------------------

export const policySummarySchema = z.object({
  id: z.string(),
  effect: z.enum(['permit', 'forbid']),
  approval: z.boolean(),
  reason: z.string().optional(),
});

export const policyViewSchema = z.object({
  /** The tenant's Cedar policies ('' when it has none: the defaults alone decide). */
  text: z.string(),
  version: z.number().int().nonnegative(),
  updatedAt: timestampSchema.nullable(),
  updatedBy: userIdSchema.nullable(),
  policies: z.array(policySummarySchema),
  /** The defaults evaluated with them (reads allowed, writes need approval, …). */
  defaults: z.string(),
});

export const getTenantPolicy = defineRoute({
  id: 'tenant.policy.get',
  method: 'GET',
  path: '/v1/tenant/policy',
  summary: "The tenant's policy (Cedar), its version, and the defaults it is evaluated with.",
  access: overseers,
  outcome: { kind: 'json', status: 200, schema: policyViewSchema },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN'],
});

export const saveTenantPolicy = defineRoute({
  id: 'tenant.policy.save',
  method: 'POST',
  path: '/v1/tenant/policy',
  summary:
    "Replaces the tenant's policy, after checking it against HeroAgent's Cedar schema; names the version it replaces.",
  access: managers,
  body: z.strictObject({
    text: z.string().max(200_000),
    expectedVersion: z.number().int().nonnegative(),
  }),
  outcome: { kind: 'json', status: 200, schema: policyViewSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'CONFLICT'],
  rateLimitPerMinute: 30,
});

// ---- Approvals --------------------------------------------------------------------------------

export const approvalViewSchema = z.object({
  id: z.uuid(),
  actionId: z.uuid(),
  taskId: z.uuid(),
  userId: userIdSchema,
  action: z.string(),
  class: z.enum(['read', 'reversible', 'irreversible']),
  /** The parameters the agent asked with: what exactly is to be approved. */
  params: z.json(),
  rationale: z.string(),
  /** Why the policy wants a person to approve it. */
  reason: z.string(),
  policyId: z.string(),
  /** The values that did not come from the person, as the gateway found them, and why. */
  untrusted: z.array(z.object({ param: z.string(), why: z.string() })),
  /** Whether and how it can be undone, said before it is approved. */
  undo: z.string(),
  status: z.enum(['pending', 'approved', 'denied', 'expired', 'cancelled']),
  required: z.number().int(),
  decisions: z.array(
    z.object({
      userId: userIdSchema,
      decision: z.enum(['approve', 'deny']),
      at: timestampSchema,
      note: z.string(),
    }),
  ),
  createdAt: timestampSchema,
  expiresAt: timestampSchema,
});

export const listApprovals = defineRoute({
  id: 'approvals.list',
  method: 'GET',
  path: '/v1/approvals',
  summary:
    "Approvals: a member sees those of their own tasks; an owner, admin or auditor the tenant's (pending unless all are asked for).",
  access: everyone,
  query: z.strictObject({ status: z.enum(['pending', 'all']).default('pending') }),
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({ approvals: z.array(approvalViewSchema) }),
  },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN'],
});

export const approveAction = defineRoute({
  id: 'approvals.approve',
  method: 'POST',
  path: '/v1/approvals/:id/approve',
  summary:
    'Approves a pending action; once enough people have, it runs (once) and its outcome is returned.',
  access: actors,
  params: idParams,
  body: z.strictObject({ note: z.string().trim().max(500).default('') }),
  outcome: { kind: 'json', status: 200, schema: approvalViewSchema.extend({ outcome: z.json() }) },
  errors: [
    'UNAUTHENTICATED',
    'CSRF_INVALID',
    'FORBIDDEN',
    'NOT_FOUND',
    'CONFLICT',
    'CAPABILITY_REVOKED',
    'TENANT_PAUSED',
    'UPSTREAM_FAILED',
    'PROVIDER_UNAVAILABLE',
    'CONNECTION_BROKEN',
    'SCOPE_NOT_GRANTED',
  ],
  rateLimitPerMinute: 60,
});

export const denyAction = defineRoute({
  id: 'approvals.deny',
  method: 'POST',
  path: '/v1/approvals/:id/deny',
  summary: 'Denies a pending action: it never runs.',
  access: actors,
  params: idParams,
  body: z.strictObject({ note: z.string().trim().max(500).default('') }),
  outcome: { kind: 'json', status: 200, schema: approvalViewSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'],
});

// ---- Undo -------------------------------------------------------------------------------------

export const undoAction = defineRoute({
  id: 'actions.undo',
  method: 'POST',
  path: '/v1/actions/:id/undo',
  summary:
    "Undoes an action through the same path (a token from vault-proxy, the provider's API, audit), linking the two in audit; what cannot be undone says so (its person, or an owner or admin).",
  access: actors,
  params: idParams,
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({ actionId: z.uuid(), undoActionId: z.uuid(), status: z.literal('undone') }),
  },
  errors: [
    'UNAUTHENTICATED',
    'CSRF_INVALID',
    'FORBIDDEN',
    'NOT_FOUND',
    'CONFLICT',
    'CONNECTION_BROKEN',
    'SCOPE_NOT_GRANTED',
    'PROVIDER_UNAVAILABLE',
    'UPSTREAM_FAILED',
  ],
  rateLimitPerMinute: 60,
});

/** Every route of the gateway's HTTP API, in the order the OpenAPI description lists them. */
export const GATEWAY_ROUTES = [
  healthz,
  readyz,
  openApiDocument,
  listSignInProviders,
  startSignIn,
  finishSignIn,
  getSession,
  signOut,
  switchTenant,
  listMySessions,
  endMySession,
  listMyTenants,
  createTenant,
  acceptInvitation,
  exportMyData,
  closeMyAccount,
  listMembers,
  changeMemberRole,
  removeMember,
  listInvitations,
  createInvitation,
  revokeInvitation,
  closeTenant,
  listMyConnections,
  startConnection,
  finishConnection,
  revokeMyConnection,
  previewTask,
  startTask,
  listTasks,
  stopTask,
  getAgentsSwitch,
  pauseAgents,
  resumeAgents,
  listTaskEvents,
  getAgentSettings,
  saveAgentSettings,
  getTenantPolicy,
  saveTenantPolicy,
  listApprovals,
  approveAction,
  denyAction,
  undoAction,
  ...RECORD_ROUTES,
  ...POLICY_SIMULATION_ROUTES,
  ...RETENTION_ROUTES,
] as const;
