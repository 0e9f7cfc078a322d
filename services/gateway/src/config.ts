import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  checkTransportSecurity,
  commonConfig,
  commonEnvSchema,
  flagSchema,
  pemFileSchema,
  loadConfigOrExit,
  nkeyPublicKeyOf,
  nkeySeedFileSchema,
  schemaNameSchema,
  sealingKeyEnvSchema,
  signingKeyEnvSchema,
} from '@heroagent/service';

const optional = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));
const httpUrl = z.url({ protocol: /^https?$/ });
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/ });

/**
 * The gateway's cross-tenant jobs, each with a Postgres login role of its own: `relay` publishes
 * every tenant's audit outbox; `sweeper` fails stale actions, lists due sends, expires approvals
 * and applies retention. Their row policies name their roles (migration 20261127090000).
 */
export const GATEWAY_JOBS = ['relay', 'sweeper'] as const;
const seconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const envSchema = z
  .object({
    ...commonEnvSchema.shape,
    DATABASE_SCHEMA: schemaNameSchema.default('gateway'),
    /** The outbox relay's role (`<prefix>_gateway_relay`): reads and marks every tenant's outbox. */
    DATABASE_RELAY_URL: postgresUrl,
    /** The sweepers' role (`<prefix>_gateway_sweeper`): stale actions, due sends, expiry, retention. */
    DATABASE_SWEEPER_URL: postgresUrl,
    HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    /**
     * The listener's certificate (chain) and key: with both, the gateway serves HTTPS only, TLS 1.3
     * at least. Without them it serves plain HTTP, which production refuses unless
     * HTTP_BEHIND_TLS_PROXY says TLS ends in front of it.
     */
    HTTP_TLS_CERT_FILE: pemFileSchema,
    HTTP_TLS_KEY_FILE: pemFileSchema,
    /** Plain HTTP is meant: a proxy or ingress in front terminates TLS (required for it in production). */
    HTTP_BEHIND_TLS_PROXY: flagSchema,
    /** Largest JSON body accepted, in bytes. */
    HTTP_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(102_400),
    /** The built console (apps/console/dist) the gateway serves at `/`; none: no console. */
    CONSOLE_DIR: optional.pipe(
      z
        .string()
        .refine(
          (dir) => existsSync(join(dir, 'index.html')),
          'holds no index.html (build the console)',
        )
        .optional(),
    ),
    /** How many proxies in front of the gateway to trust for the client address (0: none). */
    HTTP_TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    /** Requests per minute per client address, for routes without a stricter limit. */
    HTTP_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(600),
    /**
     * The origin people reach the gateway at (scheme, host, port): OAuth callbacks are built on it
     * and state-changing requests must come from it.
     */
    PUBLIC_URL: httpUrl.optional(),
    SESSION_IDLE_TIMEOUT_S: seconds(60, 86_400, 1_800),
    SESSION_ABSOLUTE_TIMEOUT_S: seconds(300, 2_592_000, 43_200),
    /** `open`: anyone who signs in gets their own tenant; `invite-only`: only invited people. */
    SIGN_UP: z.enum(['open', 'invite-only']).default('open'),
    /** If set, only people with a verified email in one of these domains may sign up. */
    SIGN_UP_EMAIL_DOMAINS: optional,
    /**
     * With SIGN_UP=invite-only, the verified emails that may still sign up (and create tenants):
     * how a self-hosted install gets its first owner.
     */
    SIGN_UP_BOOTSTRAP_EMAILS: optional,
    /**
     * Google's OAuth client id, for the redirect to Google. Its secret is vault-proxy's alone:
     * vault-proxy exchanges every Google code (see vault.oauth.exchange).
     */
    OAUTH_GOOGLE_CLIENT_ID: optional,
    /** Read only to refuse it: the gateway must not hold Google's client secret. */
    OAUTH_GOOGLE_CLIENT_SECRET: optional,
    OAUTH_GOOGLE_AUTHORIZE_URL: httpUrl.default('https://accounts.google.com/o/oauth2/v2/auth'),
    /** A generic OpenID Connect provider for self-hosted sign-in (Keycloak, Authentik, Entra…). */
    OIDC_ISSUER: httpUrl.optional(),
    OIDC_CLIENT_ID: optional,
    OIDC_CLIENT_SECRET: optional,
    OIDC_DISPLAY_NAME: z.string().min(1).max(60).default('Single sign-on'),
    OAUTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** Where the Gmail and Calendar APIs are (tests point them at doubles). */
    GMAIL_API_ROOT_URL: httpUrl.default('https://gmail.googleapis.com/'),
    CALENDAR_API_ROOT_URL: httpUrl.default('https://www.googleapis.com/'),
    /** How long an approval waits for a person before it expires. */
    APPROVAL_TTL_S: seconds(60, 30 * 86_400, 86_400),
    /** Purchases of at least this much (minor units, any currency) need a second person's approval. */
    APPROVAL_SECOND_PERSON_FROM_MINOR: z.coerce.number().int().min(1).default(10_000),
    /**
     * The merchants purchases go through: a JSON array of `{ id, url, apiKey }` (their order APIs).
     * Without it, purchases are refused when they would run.
     */
    MERCHANTS: z
      .string()
      .default('[]')
      .transform((text, context) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          context.addIssue({ code: 'custom', message: 'must be a JSON array of merchants' });
          return z.NEVER;
        }
      })
      .pipe(
        z
          .array(
            z.strictObject({
              id: z.string().regex(/^[a-z0-9-]{1,64}$/),
              url: httpUrl,
              apiKey: z.string().min(8).max(512),
            }),
          )
          .max(100),
      ),
    /** How long a sent message waits in the outbox, cancellable, before it really leaves. */
    SEND_UNDO_WINDOW_S: z.coerce.number().int().min(0).max(600).default(30),
    /**
     * How many tasks in words the agent may work on at once for one tenant, across every replica
     * of the gateway and the agent (counted in Postgres when a task starts).
     */
    AGENT_TASKS_PER_TENANT: z.coerce.number().int().min(1).max(10_000).default(20),
    /**
     * How long a repeated request (same task and idempotency key) waits for its first attempt,
     * still running on a live replica, before answering TIMEOUT: keep it below the agent's own
     * timeout for the request. (A first attempt whose replica is gone is settled at once.)
     */
    ACTION_RETRY_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
    /**
     * The longest this replica keeps an access token it opened, whatever the token's expiry: the
     * bound on how long a lost `vault.connections.changed` event can matter. 0 keeps none (every
     * call asks vault-proxy).
     */
    TOKEN_CACHE_MAX_AGE_S: z.coerce.number().int().min(0).max(300).default(60),
    /** A kept access token with less than this left before its real expiry is not used. */
    TOKEN_CACHE_MARGIN_S: z.coerce.number().int().min(0).max(1_800).default(60),
    /** Longest wait for a provider API call. */
    PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
    /**
     * The NATS user the audit outbox relay publishes under (deploy/nats: `gateway-relay`, allowed
     * only `audit.events.*`), so the gateway's own user need not be: a user and password, or an
     * nkey seed file. Required with NATS_USER or NATS_NKEY_SEED_FILE and in production; without
     * them (development against a NATS without users) the relay connects as the gateway does.
     */
    NATS_RELAY_USER: optional,
    NATS_RELAY_PASSWORD: optional,
    NATS_RELAY_NKEY_SEED_FILE: nkeySeedFileSchema,
    /** Signs capabilities, audit events and requests to vault-proxy. */
    SERVICE_SIGNING_KEY: signingKeyEnvSchema,
    /** Opens access tokens vault-proxy seals to the gateway. */
    SERVICE_SEALING_KEY: sealingKeyEnvSchema,
  })
  .superRefine((env, context) => {
    checkTransportSecurity(env, context, {
      DATABASE_RELAY_URL: env.DATABASE_RELAY_URL,
      DATABASE_SWEEPER_URL: env.DATABASE_SWEEPER_URL,
    });
    const pair = (id: keyof typeof env, secret: keyof typeof env) => {
      if ((env[id] === undefined) !== (env[secret] === undefined)) {
        context.addIssue({
          code: 'custom',
          path: [env[id] === undefined ? id : secret],
          message: `is required with ${env[id] === undefined ? secret : id}`,
        });
      }
    };
    // Each job its own role: a job on the runtime role's URL would need the runtime role to be
    // granted what the job does, across tenants, which is what the roles exist to prevent.
    const users = new Map<string, string>();
    for (const name of ['DATABASE_URL', 'DATABASE_RELAY_URL', 'DATABASE_SWEEPER_URL'] as const) {
      let user: string;
      try {
        user = decodeURIComponent(new URL(env[name]).username);
      } catch {
        continue; // refused as a URL already
      }
      const other = users.get(user);
      if (user === '' || other !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [name],
          message:
            user === ''
              ? 'must name its role as the user'
              : `must connect as a role of its own, not ${other}'s`,
        });
      }
      users.set(user, name);
    }
    pair('HTTP_TLS_CERT_FILE', 'HTTP_TLS_KEY_FILE');
    const https = env.HTTP_TLS_CERT_FILE !== undefined;
    if (https && env.HTTP_BEHIND_TLS_PROXY) {
      context.addIssue({
        code: 'custom',
        path: ['HTTP_BEHIND_TLS_PROXY'],
        message:
          'must not be true with HTTP_TLS_CERT_FILE: serve HTTPS, or plain HTTP behind a proxy',
      });
    }
    if (env.HEROAGENT_ENV === 'production' && !https && !env.HTTP_BEHIND_TLS_PROXY) {
      context.addIssue({
        code: 'custom',
        path: ['HTTP_TLS_CERT_FILE'],
        message:
          'is required in production (with HTTP_TLS_KEY_FILE), or HTTP_BEHIND_TLS_PROXY=true when a proxy in front terminates TLS',
      });
    }
    if (env.OAUTH_GOOGLE_CLIENT_SECRET !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['OAUTH_GOOGLE_CLIENT_SECRET'],
        message: "is vault-proxy's alone (it exchanges Google's codes): remove it from the gateway",
      });
    }
    pair('NATS_RELAY_USER', 'NATS_RELAY_PASSWORD');
    checkRelayCredentials(env, context);
    pair('OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET');
    if ((env.OIDC_ISSUER === undefined) !== (env.OIDC_CLIENT_ID === undefined)) {
      context.addIssue({
        code: 'custom',
        path: [env.OIDC_ISSUER === undefined ? 'OIDC_ISSUER' : 'OIDC_CLIENT_ID'],
        message: 'OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET go together',
      });
    }
    if (env.HEROAGENT_ENV === 'production' && env.PUBLIC_URL === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['PUBLIC_URL'],
        message: 'is required in production',
      });
    }
    if (env.HEROAGENT_ENV === 'production' && env.PUBLIC_URL?.startsWith('http:')) {
      context.addIssue({
        code: 'custom',
        path: ['PUBLIC_URL'],
        message: 'must be https in production',
      });
    }
    if (env.SESSION_IDLE_TIMEOUT_S > env.SESSION_ABSOLUTE_TIMEOUT_S) {
      context.addIssue({
        code: 'custom',
        path: ['SESSION_IDLE_TIMEOUT_S'],
        message: 'must not exceed SESSION_ABSOLUTE_TIMEOUT_S',
      });
    }
  });

/**
 * The outbox relay's NATS credentials: its own user (a password or an nkey, not both), required
 * whenever the gateway has credentials of its own, and in production; never the gateway's.
 */
function checkRelayCredentials(
  env: {
    HEROAGENT_ENV: string;
    NATS_USER?: string | undefined;
    NATS_NKEY_SEED_FILE?: string | undefined;
    NATS_RELAY_USER?: string | undefined;
    NATS_RELAY_PASSWORD?: string | undefined;
    NATS_RELAY_NKEY_SEED_FILE?: string | undefined;
  },
  context: z.RefinementCtx,
): void {
  const issue = (path: string, message: string) =>
    context.addIssue({ code: 'custom', path: [path], message });
  const password = env.NATS_RELAY_USER !== undefined || env.NATS_RELAY_PASSWORD !== undefined;
  const nkey = env.NATS_RELAY_NKEY_SEED_FILE !== undefined;
  if (password && nkey) {
    issue(
      'NATS_RELAY_NKEY_SEED_FILE',
      'must not be set with NATS_RELAY_USER/NATS_RELAY_PASSWORD: the relay authenticates with a password or an nkey, not both',
    );
  }
  if (!password && !nkey) {
    const why =
      env.NATS_USER !== undefined
        ? 'is required with NATS_USER (the outbox relay publishes audit events under its own user)'
        : env.NATS_NKEY_SEED_FILE !== undefined
          ? 'is required with NATS_NKEY_SEED_FILE (the outbox relay publishes audit events under its own nkey)'
          : env.HEROAGENT_ENV === 'production'
            ? 'is required in production (the outbox relay publishes audit events under its own user), or NATS_RELAY_NKEY_SEED_FILE'
            : undefined;
    if (why !== undefined)
      issue(
        env.NATS_NKEY_SEED_FILE === undefined ? 'NATS_RELAY_USER' : 'NATS_RELAY_NKEY_SEED_FILE',
        why,
      );
  }
  if (env.NATS_RELAY_USER !== undefined && env.NATS_RELAY_USER === env.NATS_USER)
    issue('NATS_RELAY_USER', 'must not be NATS_USER: the relay has a user of its own');
  if (nkey && env.NATS_NKEY_SEED_FILE !== undefined) {
    let same = env.NATS_RELAY_NKEY_SEED_FILE === env.NATS_NKEY_SEED_FILE;
    try {
      same ||=
        nkeyPublicKeyOf(env.NATS_RELAY_NKEY_SEED_FILE!) ===
        nkeyPublicKeyOf(env.NATS_NKEY_SEED_FILE);
    } catch {
      // an unreadable or malformed seed is refused by its own variable already
    }
    if (same)
      issue(
        'NATS_RELAY_NKEY_SEED_FILE',
        "must not be NATS_NKEY_SEED_FILE's nkey: the relay has a user of its own",
      );
  }
}

/** A comma-separated, case-insensitive list. */
function list(text: string | undefined): string[] {
  return (
    text
      ?.split(',')
      .map((item) => item.trim().toLowerCase())
      .filter(Boolean) ?? []
  );
}

/** The gateway's configuration. */
export const gatewayConfigSchema = envSchema.transform((env) => {
  const https = env.HTTP_TLS_CERT_FILE !== undefined && env.HTTP_TLS_KEY_FILE !== undefined;
  const publicUrl = new URL(
    env.PUBLIC_URL ?? `${https ? 'https' : 'http'}://127.0.0.1:${env.HTTP_PORT}`,
  );
  const common = commonConfig(env);
  return {
    ...common,
    /** What the audit outbox relay connects with: its own user, or the gateway's (see NATS_RELAY_USER). */
    relayNats:
      env.NATS_RELAY_USER === undefined && env.NATS_RELAY_NKEY_SEED_FILE === undefined
        ? common.nats
        : {
            ...common.nats,
            NATS_USER: env.NATS_RELAY_USER,
            NATS_PASSWORD: env.NATS_RELAY_PASSWORD,
            NATS_NKEY_SEED_FILE: env.NATS_RELAY_NKEY_SEED_FILE,
          },
    schema: env.DATABASE_SCHEMA,
    jobDatabases: { relay: env.DATABASE_RELAY_URL, sweeper: env.DATABASE_SWEEPER_URL },
    http: {
      host: env.HTTP_HOST,
      port: env.HTTP_PORT,
      /** HTTPS (TLS 1.3 at least) with this certificate and key; undefined: plain HTTP. */
      tls: https
        ? { certFile: env.HTTP_TLS_CERT_FILE!, keyFile: env.HTTP_TLS_KEY_FILE! }
        : undefined,
      /** Plain HTTP on purpose: TLS ends at a proxy in front (HTTP_BEHIND_TLS_PROXY). */
      behindTlsProxy: env.HTTP_BEHIND_TLS_PROXY,
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      trustProxyHops: env.HTTP_TRUST_PROXY_HOPS,
      rateLimitPerMinute: env.HTTP_RATE_LIMIT_PER_MINUTE,
      consoleDir: env.CONSOLE_DIR === undefined ? undefined : resolve(env.CONSOLE_DIR),
      /** Set when PUBLIC_URL is absent and the port is chosen at listen time (tests). */
      publicOrigin: env.PUBLIC_URL === undefined ? undefined : publicUrl.origin,
      /** Cookies are Secure (and `__Host-` prefixed) everywhere but development over plain HTTP. */
      secureCookies: env.HEROAGENT_ENV !== 'development' || publicUrl.protocol === 'https:',
    },
    sessions: {
      idleTimeoutMs: env.SESSION_IDLE_TIMEOUT_S * 1000,
      absoluteTimeoutMs: env.SESSION_ABSOLUTE_TIMEOUT_S * 1000,
    },
    signUp: {
      mode: env.SIGN_UP,
      emailDomains: list(env.SIGN_UP_EMAIL_DOMAINS),
      bootstrapEmails: list(env.SIGN_UP_BOOTSTRAP_EMAILS),
    },
    google:
      env.OAUTH_GOOGLE_CLIENT_ID === undefined
        ? undefined
        : {
            clientId: env.OAUTH_GOOGLE_CLIENT_ID,
            authorizeUrl: env.OAUTH_GOOGLE_AUTHORIZE_URL,
          },
    oidc:
      env.OIDC_ISSUER === undefined
        ? undefined
        : {
            issuer: env.OIDC_ISSUER,
            clientId: env.OIDC_CLIENT_ID!,
            clientSecret: env.OIDC_CLIENT_SECRET!,
            displayName: env.OIDC_DISPLAY_NAME,
          },
    oauthTimeoutMs: env.OAUTH_TIMEOUT_MS,
    sendWindowMs: env.SEND_UNDO_WINDOW_S * 1000,
    retryWaitMs: env.ACTION_RETRY_WAIT_MS,
    tokenCache: {
      maxAgeMs: env.TOKEN_CACHE_MAX_AGE_S * 1000,
      marginMs: env.TOKEN_CACHE_MARGIN_S * 1000,
    },
    agentTasksPerTenant: env.AGENT_TASKS_PER_TENANT,
    merchants: env.MERCHANTS,
    approvals: {
      ttlMs: env.APPROVAL_TTL_S * 1000,
      secondPersonFromMinor: env.APPROVAL_SECOND_PERSON_FROM_MINOR,
    },
    providers: {
      gmailRootUrl: env.GMAIL_API_ROOT_URL.endsWith('/')
        ? env.GMAIL_API_ROOT_URL
        : `${env.GMAIL_API_ROOT_URL}/`,
      calendarRootUrl: env.CALENDAR_API_ROOT_URL.endsWith('/')
        ? env.CALENDAR_API_ROOT_URL
        : `${env.CALENDAR_API_ROOT_URL}/`,
      timeoutMs: env.PROVIDER_TIMEOUT_MS,
    },
    signingKey: env.SERVICE_SIGNING_KEY,
    sealingKey: env.SERVICE_SEALING_KEY,
  };
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** Reads the environment once; a bad variable stops the process with its name. */
export function loadGatewayConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): GatewayConfig {
  return loadConfigOrExit('gateway', gatewayConfigSchema, env);
}
