import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { z } from 'zod';

/** The repository the launcher was built in (tools/launcher/dist/ → ../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const port = z.coerce.number().int().min(1).max(65_535);
const optionalUrl = (protocols: string[], what: string) =>
  z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .refine((value) => {
      if (value === undefined) return true;
      try {
        return protocols.includes(new URL(value.split(',')[0]!.trim()).protocol);
      } catch {
        return false;
      }
    }, `must be ${what}`);

const envSchema = z.object({
  /** A Postgres the launcher may create roles and schemas in; else an embedded one. */
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:'], 'a postgres:// URL'),
  /** A NATS server to use as is; else a nats-server started from PATH with deploy/nats. */
  NATS_URL: optionalUrl(['nats:', 'tls:'], 'a nats:// or tls:// URL'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(8080),
  HEROAGENT_HOME: z.string().min(1).default('.heroagent'),
  HEROAGENT_PG_PORT: port.default(54329),
  HEROAGENT_NATS_PORT: port.default(4322),
  /** nats-server's monitoring endpoint (connz, varz) on 127.0.0.1 at this port; absent: none. */
  HEROAGENT_NATS_MONITOR_PORT: port.optional(),
  /**
   * `on`: TLS 1.3 on every hop the launcher starts (embedded Postgres, nats-server with mutual
   * TLS, the gateway's HTTPS), from a development CA it makes in <home>/tls. `off`: plain.
   */
  HEROAGENT_TLS: z.enum(['on', 'off']).default('on'),
  /** Prefix of the Postgres roles the launcher creates (roles are server-wide, unlike schemas). */
  HEROAGENT_ROLE_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,30}$/, 'must be a lower-case SQL identifier of at most 31 characters')
    .default('heroagent'),
  HEROAGENT_READY_TIMEOUT_S: z.coerce.number().int().min(5).max(600).default(120),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
});

/** What `pnpm start` runs with. */
export interface LauncherConfig {
  readonly databaseUrl: string | undefined;
  readonly natsUrl: string | undefined;
  readonly httpHost: string;
  readonly httpPort: number;
  /** Where development keys, embedded Postgres data, NATS data and logs go (git-ignored). */
  readonly home: string;
  readonly postgresPort: number;
  readonly natsPort: number;
  readonly natsMonitorPort: number | undefined;
  /** TLS on the hops the launcher starts, from its development CA (HEROAGENT_TLS). */
  readonly tls: boolean;
  /**
   * TLS settings for an external Postgres or NATS, passed on as given (DATABASE_TLS_CA_FILE,
   * NATS_TLS_*): the launcher makes no certificate for servers it does not start.
   */
  readonly externalTlsEnv: Readonly<Record<string, string>>;
  readonly readyTimeoutMs: number;
  readonly logLevel: string;
  readonly rolePrefix: string;
  /** The part of the launcher's own environment that the processes it starts inherit. */
  readonly inheritedEnv: Readonly<Record<string, string>>;
  /** What only vault-proxy inherits: Vault and OAuth client credentials. */
  readonly vaultProxyEnv: Readonly<Record<string, string>>;
  /** What only the gateway inherits: its public URL, sign-in providers and sign-up policy. */
  readonly gatewayEnv: Readonly<Record<string, string>>;
  /** What only the agent inherits: its model providers (a hosted one's API key among them). */
  readonly agentEnv: Readonly<Record<string, string>>;
}

// Only these variables of the launcher's environment reach the processes it starts; in particular
// its DATABASE_URL (an administrator's) never reaches a service.
const INHERITED = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_METRIC_EXPORT_INTERVAL',
];
// TLS to an external Postgres or NATS (DATABASE_URL, NATS_URL): every service and step gets them.
const EXTERNAL_TLS = [
  'DATABASE_TLS_CA_FILE',
  'NATS_TLS_CA_FILE',
  'NATS_TLS_SYSTEM_CA',
  'NATS_TLS_CERT_FILE',
  'NATS_TLS_KEY_FILE',
];
// Credentials for a real Vault and a real Google, when a developer sets them: vault-proxy's only.
const VAULT_PROXY_ONLY = [
  'VAULT_ADDR',
  'VAULT_TOKEN',
  'VAULT_NAMESPACE',
  'VAULT_CACERT',
  'VAULT_ALLOW_HTTP',
  'VAULT_AUTH_METHOD',
  'VAULT_ROLE_ID',
  'VAULT_SECRET_ID',
  'OAUTH_GOOGLE_CLIENT_ID',
  'OAUTH_GOOGLE_CLIENT_SECRET',
];

// Sign-in, sign-up, approval, send-window and merchant settings: the gateway's only. The Google
// client id goes to both (the gateway redirects to Google with it); its secret to vault-proxy
// alone, which exchanges the codes.
const GATEWAY_ONLY = [
  'PUBLIC_URL',
  'OAUTH_GOOGLE_CLIENT_ID',
  'OIDC_ISSUER',
  'OIDC_CLIENT_ID',
  'OIDC_CLIENT_SECRET',
  'OIDC_DISPLAY_NAME',
  'SIGN_UP',
  'SIGN_UP_EMAIL_DOMAINS',
  'SIGN_UP_BOOTSTRAP_EMAILS',
  'SESSION_IDLE_TIMEOUT_S',
  'SESSION_ABSOLUTE_TIMEOUT_S',
  'APPROVAL_TTL_S',
  'APPROVAL_SECOND_PERSON_FROM_MINOR',
  'SEND_UNDO_WINDOW_S',
  'MERCHANTS',
];

// The models the agent may use: the agent's only (no other service needs a model's URL or key).
const AGENT_ONLY = [
  'LLM_BASE_URL',
  'LLM_MODEL',
  'LLM_API_KEY',
  'LLM_LOCATION',
  'LLM_TRAINS_ON_CUSTOMER_DATA',
  'AGENT_MODEL_PROVIDERS',
  'AGENT_DEFAULT_PROVIDER',
  'AGENT_MAX_STEPS',
  'AGENT_MAX_TASKS',
  'AGENT_MODEL_TIMEOUT_MS',
  'AGENT_APPROVAL_POLL_MS',
];

/** Thrown for a bad variable; the message names every one, never its value. */
export class LauncherConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/** Reads the launcher's environment. */
export function loadLauncherConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LauncherConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  - ${issue.path.join('.')}: ${issue.message}`,
    );
    throw new LauncherConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const value = parsed.data;
  return {
    databaseUrl: value.DATABASE_URL,
    natsUrl: value.NATS_URL,
    httpHost: value.HTTP_HOST,
    httpPort: value.HTTP_PORT,
    home: resolve(REPO_ROOT, value.HEROAGENT_HOME),
    postgresPort: value.HEROAGENT_PG_PORT,
    natsPort: value.HEROAGENT_NATS_PORT,
    natsMonitorPort: value.HEROAGENT_NATS_MONITOR_PORT,
    tls: value.HEROAGENT_TLS === 'on',
    externalTlsEnv: Object.fromEntries(
      EXTERNAL_TLS.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])),
    ),
    readyTimeoutMs: value.HEROAGENT_READY_TIMEOUT_S * 1000,
    logLevel: value.LOG_LEVEL,
    rolePrefix: value.HEROAGENT_ROLE_PREFIX,
    vaultProxyEnv: Object.fromEntries(
      VAULT_PROXY_ONLY.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])),
    ),
    gatewayEnv: Object.fromEntries(
      GATEWAY_ONLY.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])),
    ),
    agentEnv: Object.fromEntries(
      AGENT_ONLY.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])),
    ),
    inheritedEnv: Object.fromEntries(
      INHERITED.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])),
    ),
  };
}
