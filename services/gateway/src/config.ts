import { z } from 'zod';
import {
  commonConfig,
  commonEnvSchema,
  loadConfigOrExit,
  schemaNameSchema,
  sealingKeyEnvSchema,
  signingKeyEnvSchema,
} from '@heroagent/service';

const envSchema = z.object({
  ...commonEnvSchema.shape,
  DATABASE_SCHEMA: schemaNameSchema.default('gateway'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Largest JSON body accepted, in bytes. */
  HTTP_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(102_400),
  /** Signs capabilities, audit events and requests to vault-proxy. */
  SERVICE_SIGNING_KEY: signingKeyEnvSchema,
  /** Opens access tokens vault-proxy seals to the gateway. */
  SERVICE_SEALING_KEY: sealingKeyEnvSchema,
});

/** The gateway's configuration. */
export const gatewayConfigSchema = envSchema.transform((env) => ({
  ...commonConfig(env),
  schema: env.DATABASE_SCHEMA,
  http: { host: env.HTTP_HOST, port: env.HTTP_PORT, bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES },
  signingKey: env.SERVICE_SIGNING_KEY,
  sealingKey: env.SERVICE_SEALING_KEY,
}));
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** Reads the environment once; a bad variable stops the process with its name. */
export function loadGatewayConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): GatewayConfig {
  return loadConfigOrExit('gateway', gatewayConfigSchema, env);
}
