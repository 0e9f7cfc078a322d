import { z } from 'zod';
import { LOG_LEVELS } from '@heroagent/telemetry';

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

/** NATS connection: `NATS_URL`, and the service's own user and password where the server needs them. */
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
  NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
});

/** Postgres: the runtime URL (a role under RLS) and, optionally, the owner URL migrations run with. */
export const databaseEnvSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATABASE_MIGRATION_URL: url(['postgres:', 'postgresql:']).optional(),
});

/** Logging and tracing. */
export const telemetryEnvSchema = z.object({
  HEROAGENT_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(['http:', 'https:']).optional(),
});

/** Parsed NATS settings. */
export type NatsConfig = z.output<typeof natsEnvSchema>;
/** Parsed Postgres settings. */
export type DatabaseConfig = z.output<typeof databaseEnvSchema>;
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
}

/** Groups the common variables of a parsed environment. */
export function commonConfig(env: z.output<typeof commonEnvSchema>): CommonConfig {
  return {
    nats: {
      NATS_URL: env.NATS_URL,
      NATS_USER: env.NATS_USER,
      NATS_PASSWORD: env.NATS_PASSWORD,
      NATS_REQUEST_TIMEOUT_MS: env.NATS_REQUEST_TIMEOUT_MS,
    },
    database: {
      DATABASE_URL: env.DATABASE_URL,
      DATABASE_MIGRATION_URL: env.DATABASE_MIGRATION_URL,
    },
    telemetry: {
      HEROAGENT_ENV: env.HEROAGENT_ENV,
      LOG_LEVEL: env.LOG_LEVEL,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    },
  };
}
