import { startService, type RunningService } from '@heroagent/service';
import type { Kysely } from '@heroagent/db';
import type { Logger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { AppModule } from './app.module.js';
import type { VaultProxyConfig } from './config.js';
import { EmbeddedSecretsBackend } from './secrets/embedded/embedded-secrets-backend.js';
import { createKeyFile, loadKeyFile } from './secrets/embedded/key-file.js';
import type { SecretsBackend } from './secrets/secrets-backend.js';
import { VaultConnection } from './secrets/vault/vault-connection.js';
import { VaultSecretsBackend } from './secrets/vault/vault-secrets-backend.js';
import type { VaultProxyDatabase } from './store-tables.js';

/** Builds the configured secrets backend: Vault (logged in now), or the embedded store over the service's pool. */
export async function secretsBackendFactory(
  config: VaultProxyConfig,
  logger: Logger,
): Promise<(db: Kysely<VaultProxyDatabase>) => SecretsBackend> {
  if (config.secrets.backend === 'vault') {
    const backend = new VaultSecretsBackend(
      await VaultConnection.connect(config.secrets.vault, logger),
      config.secrets.mounts,
    );
    return () => backend;
  }
  // On a developer machine the key file is made at first start; anywhere else it must be provided.
  if (
    config.telemetry.HEROAGENT_ENV === 'development' &&
    (await createKeyFile(config.secrets.keyFile))
  ) {
    logger.warn({ file: config.secrets.keyFile }, 'created a new embedded key file (development)');
  }
  const master = await loadKeyFile(config.secrets.keyFile);
  return (db) => new EmbeddedSecretsBackend(db, master);
}

/** Starts vault-proxy in this process: its secrets backend, its database, then its NATS handlers. */
export async function startVaultProxy(
  config: VaultProxyConfig,
  logger: Logger,
): Promise<RunningService> {
  logger.info({ kid: config.signingKey.kid, store: config.secrets.backend }, 'service keys loaded');
  const secrets = await secretsBackendFactory(config, logger);
  return startService({
    service: 'vault-proxy',
    schema: config.schema,
    config,
    logger,
    migrations,
    module: (runtime) =>
      AppModule.register(runtime, secrets(runtime.db as Kysely<VaultProxyDatabase>)),
  });
}
