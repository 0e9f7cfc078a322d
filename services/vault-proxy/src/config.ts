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
  DATABASE_SCHEMA: schemaNameSchema.default('vault_proxy'),
  /** Signs what vault-proxy asserts (audit events of token use). */
  SERVICE_SIGNING_KEY: signingKeyEnvSchema,
  /** Opens refresh tokens the gateway seals to vault-proxy after an OAuth callback. */
  SERVICE_SEALING_KEY: sealingKeyEnvSchema,
});

/** vault-proxy's configuration: its own keys, and (with the vault-proxy issue) how to reach Vault. */
export const vaultProxyConfigSchema = envSchema.transform((env) => ({
  ...commonConfig(env),
  schema: env.DATABASE_SCHEMA,
  signingKey: env.SERVICE_SIGNING_KEY,
  sealingKey: env.SERVICE_SEALING_KEY,
}));
export type VaultProxyConfig = z.output<typeof vaultProxyConfigSchema>;

/** Reads the environment once; a bad variable stops the process with its name. */
export function loadVaultProxyConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): VaultProxyConfig {
  return loadConfigOrExit('vault-proxy', vaultProxyConfigSchema, env);
}
