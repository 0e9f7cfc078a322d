import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { serviceNameSchema } from '@heroagent/contracts';
import { fromBase64Url } from '@heroagent/crypto';
import {
  checkTransportSecurity,
  commonConfig,
  commonEnvSchema,
  loadConfigOrExit,
  natsConfigOf,
  natsEnvSchema,
  checkNatsAuth,
  checkNatsTls,
  schemaNameSchema,
  signingKeyEnvSchema,
} from '@heroagent/service';

const trustedKeySchema = z.strictObject({
  kid: z.string().min(1).max(128),
  service: serviceNameSchema,
  publicKey: z
    .string()
    .refine((text) => fromBase64Url(text)?.length === 32, 'must be a 32-byte base64url key'),
  notBefore: z.iso.datetime({ offset: true }),
  notAfter: z.iso.datetime({ offset: true }).optional(),
});

/** `AUDIT_TRUSTED_KEYS`: a JSON array of the service keys whose events audit accepts. */
const trustedKeysSchema = z
  .string()
  .default('[]')
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be a JSON array of keys' });
      return z.NEVER;
    }
  })
  .pipe(z.array(trustedKeySchema));

const secretKeySchema = z
  .string()
  .refine((text) => fromBase64Url(text)?.length === 32, 'must be 32 bytes as unpadded base64url');
const positive = (fallback: number, max: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

const envSchema = z
  .object({
    ...commonEnvSchema.shape,
    DATABASE_SCHEMA: schemaNameSchema.default('audit'),
    /** Signs the audit service's checkpoints over each tenant's chain. */
    SERVICE_SIGNING_KEY: signingKeyEnvSchema,
    AUDIT_TRUSTED_KEYS: trustedKeysSchema,
    /** Encrypts secrets audit keeps for tenants (SIEM destination headers). */
    AUDIT_SECRETS_KEY: secretKeySchema,
    AUDIT_CHECKPOINT_EVERY_EVENTS: positive(1000, 1_000_000),
    AUDIT_CHECKPOINT_INTERVAL_S: positive(60, 86_400),
    /** The longest a tenant goes without a signed checkpoint, idle or not (re-signed if unchanged). */
    AUDIT_CHECKPOINT_MAX_AGE_S: z.coerce.number().int().min(60).max(86_400).default(3600),
    AUDIT_INGEST_BATCH: positive(500, 4000),
    /** Transactions a batch is spread over, by tenant, committing in parallel. */
    AUDIT_INGEST_LANES: positive(2, 16),
    AUDIT_VERIFY_WORKERS: z.coerce.number().int().min(0).max(64).default(availableParallelism()),
    /** Refused events kept a minute per tenant (as SHA-256, size and a 1 KiB prefix); more are counted. */
    AUDIT_QUARANTINE_PER_TENANT_PER_MINUTE: positive(60, 100_000),
    /** The same for all tenants together. */
    AUDIT_QUARANTINE_PER_MINUTE: positive(600, 1_000_000),
    AUDIT_SIEM_BATCH: positive(200, 5000),
    AUDIT_SIEM_POLL_MS: positive(1000, 600_000),
    AUDIT_SIEM_TIMEOUT_MS: positive(10_000, 120_000),
    /** Lets tenants stream to private, loopback and link-local addresses (self-hosted collectors). */
    AUDIT_SIEM_ALLOW_PRIVATE_NETWORKS: z.enum(['true', 'false']).default('false'),
  })
  .superRefine((env, context) => {
    checkTransportSecurity(env, context);
    if (env.AUDIT_CHECKPOINT_MAX_AGE_S < env.AUDIT_CHECKPOINT_INTERVAL_S) {
      context.addIssue({
        code: 'custom',
        path: ['AUDIT_CHECKPOINT_MAX_AGE_S'],
        message: 'must be at least AUDIT_CHECKPOINT_INTERVAL_S (tenants are looked at that often)',
      });
    }
  });

/** The audit service's configuration. */
export const auditConfigSchema = envSchema.transform((env) => ({
  ...commonConfig(env),
  schema: env.DATABASE_SCHEMA,
  signingKey: env.SERVICE_SIGNING_KEY,
  trustedKeys: env.AUDIT_TRUSTED_KEYS,
  secretsKey: fromBase64Url(env.AUDIT_SECRETS_KEY)!,
  checkpoints: {
    everyEvents: env.AUDIT_CHECKPOINT_EVERY_EVENTS,
    intervalMs: env.AUDIT_CHECKPOINT_INTERVAL_S * 1000,
    maxAgeMs: env.AUDIT_CHECKPOINT_MAX_AGE_S * 1000,
  },
  ingest: {
    batchSize: env.AUDIT_INGEST_BATCH,
    lanes: env.AUDIT_INGEST_LANES,
    verifyWorkers: env.AUDIT_VERIFY_WORKERS,
    quarantineBudget: {
      perTenantPerMinute: env.AUDIT_QUARANTINE_PER_TENANT_PER_MINUTE,
      totalPerMinute: env.AUDIT_QUARANTINE_PER_MINUTE,
    },
  },
  siem: {
    batchSize: env.AUDIT_SIEM_BATCH,
    pollMs: env.AUDIT_SIEM_POLL_MS,
    timeoutMs: env.AUDIT_SIEM_TIMEOUT_MS,
    allowPrivateNetworks: env.AUDIT_SIEM_ALLOW_PRIVATE_NETWORKS === 'true',
  },
}));
export type AuditConfig = z.output<typeof auditConfigSchema>;

/** Reads the environment once; a bad variable stops the process with its name. */
export function loadAuditConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AuditConfig {
  return loadConfigOrExit('audit', auditConfigSchema, env);
}

const MIB = 1024 * 1024;

/**
 * The provisioning step's settings (`node dist/src/provision.js`): the NATS user allowed to create
 * and update the audit stream (deploy/nats's `provisioner`: a password, or an nkey seed file), and
 * the stream's limits. The audit
 * service itself reads none of these: it only uses what was provisioned.
 */
export const auditProvisioningConfigSchema = z
  .object({
    ...natsEnvSchema.shape,
    HEROAGENT_ENV: z.enum(['development', 'test', 'production']).default('development'),
    AUDIT_STREAM_DUPLICATE_WINDOW_S: positive(7200, 7 * 86_400),
    AUDIT_STREAM_MAX_AGE_DAYS: positive(30, 3650),
    /** The most the stream holds, in MiB; once full it refuses events, which wait in the outbox. */
    AUDIT_STREAM_MAX_MIB: positive(1024, 1024 * 1024),
    AUDIT_STREAM_REPLICAS: positive(1, 5),
    AUDIT_ACK_WAIT_S: positive(30, 3600),
  })
  .superRefine((env, context) => {
    checkNatsAuth(env, context);
    checkNatsTls(env, env.HEROAGENT_ENV === 'production', context);
  })
  .transform((env) => ({
    nats: natsConfigOf(env),
    stream: {
      duplicateWindowMs: env.AUDIT_STREAM_DUPLICATE_WINDOW_S * 1000,
      maxAgeMs: env.AUDIT_STREAM_MAX_AGE_DAYS * 86_400_000,
      maxBytes: env.AUDIT_STREAM_MAX_MIB * MIB,
      replicas: env.AUDIT_STREAM_REPLICAS,
      ackWaitMs: env.AUDIT_ACK_WAIT_S * 1000,
    },
  }));
export type AuditProvisioningConfig = z.output<typeof auditProvisioningConfigSchema>;

/** Reads the provisioning step's environment once; a bad variable stops it with its name. */
export function loadAuditProvisioningConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AuditProvisioningConfig {
  return loadConfigOrExit('audit-provision', auditProvisioningConfigSchema, env);
}
