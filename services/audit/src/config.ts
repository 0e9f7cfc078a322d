import { z } from 'zod';
import {
  commonConfig,
  commonEnvSchema,
  loadConfigOrExit,
  schemaNameSchema,
  signingKeyEnvSchema,
} from '@heroagent/service';

const envSchema = z.object({
  ...commonEnvSchema.shape,
  DATABASE_SCHEMA: schemaNameSchema.default('audit'),
  /** Signs the audit service's checkpoints over each tenant's chain. */
  SERVICE_SIGNING_KEY: signingKeyEnvSchema,
});

/** The audit service's configuration: its checkpoint signing key among the common settings. */
export const auditConfigSchema = envSchema.transform((env) => ({
  ...commonConfig(env),
  schema: env.DATABASE_SCHEMA,
  signingKey: env.SERVICE_SIGNING_KEY,
}));
export type AuditConfig = z.output<typeof auditConfigSchema>;

/** Reads the environment once; a bad variable stops the process with its name. */
export function loadAuditConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AuditConfig {
  return loadConfigOrExit('audit', auditConfigSchema, env);
}
