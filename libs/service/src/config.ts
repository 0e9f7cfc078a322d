import { z } from 'zod';
import { LOG_LEVELS } from '@heroagent/telemetry';
import {
  checkDatabaseTls,
  checkNatsTls,
  databaseTlsEnvShape,
  natsTlsEnvShape,
  type IssueSink,
} from './transport-security.js';
import { checkNatsAuth, nkeySeedFileSchema } from './nats/nats-auth.js';

/** A configuration that did not validate: every bad variable, named, without its value. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment against a service's schema, once, at boot. The error lists every
 * problem by variable name and never echoes a value (it may be a secret).
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.map(String).join('.') || '(environment)';
      return issue.code === 'invalid_type' && issue.input === undefined
        ? `${name}: is required`
        : `${name}: ${issue.message}`;
    }),
  );
}

const url = (protocols: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.map((protocol) => protocol.replace(':', '://')).join(' or ')} URL`,
  );

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

/**
 * NATS connection: `NATS_URL`, the service's own credentials where the server needs them (a user
 * and password, or an nkey seed file), and TLS (`NATS_TLS_*`; the rules between them are
 * {@link checkTransportSecurity}'s).
 */
export const natsEnvSchema = z.object({
  NATS_URL: z
    .string()
    .default('nats://127.0.0.1:4222')
    .pipe(
      z
        .string()
        .refine(
          (value) =>
            value.split(',').every((server) => /^(nats|tls):\/\/[^\s/]+$/.test(server.trim())),
          'must be nats:// or tls:// URLs, comma-separated',
        ),
    ),
  NATS_USER: optionalText,
  NATS_PASSWORD: optionalText,
  /** A file holding the service's NATS user nkey seed (`SU…`): instead of NATS_USER/NATS_PASSWORD. */
  NATS_NKEY_SEED_FILE: nkeySeedFileSchema,
  NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  ...natsTlsEnvShape,
});

const postgresUrl = url(['postgres:', 'postgresql:']);

/**
 * Postgres: the runtime URL, a role under row-level security. A service never migrates: the
 * owner's URL (`DATABASE_MIGRATION_URL`) belongs to the migrate step alone, and a service given it
 * refuses to start rather than keep the owner's password in its environment.
 */
export const databaseEnvSchema = z.object({
  DATABASE_URL: postgresUrl,
  DATABASE_MIGRATION_URL: z
    .string()
    .optional()
    .refine(
      (value) => value === undefined || value === '',
      'must not be given to a service: migrations run in their own step (`node services/<service>/dist/src/migrate.js`), the only one given the owner’s URL',
    )
    .transform(() => undefined),
  ...databaseTlsEnvShape,
});

/**
 * The optional health listener of a service (`GET /healthz`, `GET /readyz` over plain HTTP):
 * off unless `HEALTH_PORT` is set; on loopback unless `HEALTH_HOST` says otherwise (a Kubernetes
 * pod sets 0.0.0.0 so the kubelet can probe it).
 */
export const healthEnvSchema = z.object({
  HEALTH_PORT: optionalText.pipe(
    z.coerce.number<string | undefined>().int().min(1).max(65_535).optional(),
  ),
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
});

/**
 * Logging, tracing and metrics. The OTLP endpoints are OpenTelemetry's standard per-signal
 * variables (full URLs, e.g. `http://collector:4318/v1/logs`): each one set sends that signal to
 * the operator's collector; unset, it stays in the process (logs still go to standard output).
 */
export const telemetryEnvSchema = z.object({
  HEROAGENT_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(['http:', 'https:']).optional(),
  OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: url(['http:', 'https:']).optional(),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url(['http:', 'https:']).optional(),
  /** Milliseconds between metric exports (OpenTelemetry's variable and default). */
  OTEL_METRIC_EXPORT_INTERVAL: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
});

/** The telemetry settings out of a parsed environment that has them. */
export function telemetryConfigOf(env: TelemetryConfig): TelemetryConfig {
  return {
    HEROAGENT_ENV: env.HEROAGENT_ENV,
    LOG_LEVEL: env.LOG_LEVEL,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    OTEL_METRIC_EXPORT_INTERVAL: env.OTEL_METRIC_EXPORT_INTERVAL,
  };
}

/** Parsed health listener settings: no port, no listener. */
export interface HealthListenerConfig {
  readonly port?: number | undefined;
  readonly host: string;
}

/** Parsed NATS settings. */
export type NatsConfig = z.output<typeof natsEnvSchema>;
/** Parsed Postgres settings. */
export interface DatabaseConfig {
  readonly DATABASE_URL: string;
  /** The CA that verifies Postgres (verify-full, TLS 1.3); absent: no TLS. */
  readonly DATABASE_TLS_CA_FILE?: string | undefined;
}

/** The NATS settings of a parsed environment that holds {@link natsEnvSchema}'s variables. */
export function natsConfigOf(env: NatsConfig): NatsConfig {
  return {
    NATS_URL: env.NATS_URL,
    NATS_USER: env.NATS_USER,
    NATS_PASSWORD: env.NATS_PASSWORD,
    NATS_NKEY_SEED_FILE: env.NATS_NKEY_SEED_FILE,
    NATS_REQUEST_TIMEOUT_MS: env.NATS_REQUEST_TIMEOUT_MS,
    NATS_TLS_CA_FILE: env.NATS_TLS_CA_FILE,
    NATS_TLS_SYSTEM_CA: env.NATS_TLS_SYSTEM_CA,
    NATS_TLS_CERT_FILE: env.NATS_TLS_CERT_FILE,
    NATS_TLS_KEY_FILE: env.NATS_TLS_KEY_FILE,
    NATS_ALLOW_PLAINTEXT: env.NATS_ALLOW_PLAINTEXT,
  };
}

/**
 * The rules between the transport security variables of {@link commonEnvSchema} (each service's
 * schema adds it with `.superRefine`): NATS credentials of one kind (a password or an nkey), NATS verified against a named CA (or explicitly the
 * system's), Postgres TLS from DATABASE_TLS_CA_FILE only, and in production no plain NATS or
 * Postgres unless `NATS_ALLOW_PLAINTEXT` / `DATABASE_ALLOW_PLAINTEXT` say it is meant.
 * `databaseUrls` names the service's other Postgres URL variables (a job's).
 */
export function checkTransportSecurity(
  env: z.output<typeof commonEnvSchema>,
  context: IssueSink,
  databaseUrls: Readonly<Record<string, string | undefined>> = {},
): void {
  const production = env.HEROAGENT_ENV === 'production';
  checkNatsAuth(env, context);
  checkNatsTls(env, production, context);
  checkDatabaseTls(env, { DATABASE_URL: env.DATABASE_URL, ...databaseUrls }, production, context);
}
/** Parsed telemetry settings. */
export type TelemetryConfig = z.output<typeof telemetryEnvSchema>;

/** Exit status for a configuration error (EX_CONFIG in sysexits.h). */
export const EXIT_CONFIG = 78;

/**
 * {@link parseConfig} for a process entry point: on failure it prints which variables are wrong
 * to standard error and exits with {@link EXIT_CONFIG}, before anything else has started.
 */
export function loadConfigOrExit<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): z.output<S> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`[${service}] ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}

/** The variables every service reads: NATS, Postgres and telemetry. */
export const commonEnvSchema = z.object({
  ...natsEnvSchema.shape,
  ...databaseEnvSchema.shape,
  ...telemetryEnvSchema.shape,
  ...healthEnvSchema.shape,
});

/** A Postgres schema name, as `DATABASE_SCHEMA` gives it. */
export const schemaNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier');

/** Settings every service has, grouped. */
export interface CommonConfig {
  readonly nats: NatsConfig;
  readonly database: DatabaseConfig;
  readonly telemetry: TelemetryConfig;
  readonly health: HealthListenerConfig;
}

/** Groups the common variables of a parsed environment. */
export function commonConfig(env: z.output<typeof commonEnvSchema>): CommonConfig {
  return {
    nats: natsConfigOf(env),
    database: { DATABASE_URL: env.DATABASE_URL, DATABASE_TLS_CA_FILE: env.DATABASE_TLS_CA_FILE },
    telemetry: telemetryConfigOf(env),
    health: { port: env.HEALTH_PORT, host: env.HEALTH_HOST },
  };
}

/** A Postgres role name, as `DATABASE_RUNTIME_ROLE` and the job roles give it. */
const roleNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL role name');

/** What the migrate step of a service runs with. */
export interface MigrateConfig {
  /** The schema owner's URL: the only process ever given it. */
  readonly ownerUrl: string;
  readonly schema: string;
  /** `runtime` and each job's role, handed to the migrations (see `MigrationRoles`). */
  readonly roles: { readonly runtime: string } & Readonly<Record<string, string>>;
  /** The CA that verifies Postgres (DATABASE_TLS_CA_FILE); absent: no TLS. */
  readonly tlsCaFile?: string | undefined;
  readonly telemetry: TelemetryConfig;
}

/** The environment variable naming a job's role: `relay` → `DATABASE_RELAY_ROLE`. */
export function jobRoleVariable(job: string): string {
  return `DATABASE_${job.toUpperCase()}_ROLE`;
}

/**
 * The migrate step's environment: `DATABASE_MIGRATION_URL` (the owner's), `DATABASE_SCHEMA`,
 * `DATABASE_RUNTIME_ROLE` and `DATABASE_<JOB>_ROLE` for each of the service's jobs (role names, not
 * credentials: the migrations grant to them).
 */
export function migrateConfigSchema(options: { schema: string; jobs: readonly string[] }) {
  const jobs = Object.fromEntries(
    options.jobs.map((job) => [jobRoleVariable(job), roleNameSchema]),
  );
  return z
    .object({
      ...telemetryEnvSchema.shape,
      DATABASE_MIGRATION_URL: postgresUrl.refine((value) => {
        try {
          const parsed = new URL(value);
          return parsed.username !== '' || !parsed.protocol.startsWith('postgres');
        } catch {
          return true; // refused as a URL already
        }
      }, 'must name the schema owner as its user'),
      DATABASE_SCHEMA: schemaNameSchema.default(options.schema),
      DATABASE_RUNTIME_ROLE: roleNameSchema,
      ...databaseTlsEnvShape,
      ...jobs,
    })
    .superRefine((env, context) => {
      checkDatabaseTls(
        env,
        { DATABASE_MIGRATION_URL: env.DATABASE_MIGRATION_URL },
        env.HEROAGENT_ENV === 'production',
        context,
      );
      const named = [
        ['DATABASE_RUNTIME_ROLE', env.DATABASE_RUNTIME_ROLE],
        ...options.jobs.map((job) => [jobRoleVariable(job), jobRole(env, job)]),
      ] as const;
      let owner: string | undefined;
      try {
        owner = decodeURIComponent(new URL(env.DATABASE_MIGRATION_URL).username);
      } catch {
        return; // already refused above
      }
      const seen = new Set<unknown>([owner]);
      for (const [name, role] of named) {
        if (seen.has(role)) {
          context.addIssue({
            code: 'custom',
            path: [name],
            message: 'must be a role of its own (not the owner’s, nor another’s)',
          });
        }
        seen.add(role);
      }
    })
    .transform((env): MigrateConfig => ({
      ownerUrl: env.DATABASE_MIGRATION_URL,
      schema: env.DATABASE_SCHEMA,
      roles: {
        ...Object.fromEntries(options.jobs.map((job) => [job, jobRole(env, job)])),
        runtime: env.DATABASE_RUNTIME_ROLE,
      },
      ...(env.DATABASE_TLS_CA_FILE === undefined ? {} : { tlsCaFile: env.DATABASE_TLS_CA_FILE }),
      telemetry: telemetryConfigOf(env),
    }));
}

// The job variables are built from the jobs' names, so the parsed type does not list them.
function jobRole(env: object, job: string): string {
  return String((env as Readonly<Record<string, unknown>>)[jobRoleVariable(job)]);
}

/** Reads the migrate step's environment once; a bad variable stops the process with its name. */
export function loadMigrateConfig(
  service: string,
  options: { schema: string; jobs: readonly string[] },
  env: Readonly<Record<string, string | undefined>> = process.env,
): MigrateConfig {
  return loadConfigOrExit(`${service} migrate`, migrateConfigSchema(options), env);
}
