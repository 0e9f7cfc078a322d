import { startService, type RunningService } from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { AppModule } from './app.module.js';
import type { VaultProxyConfig } from './config.js';

/** Starts vault-proxy in this process: its database, then its NATS handlers. */
export async function startVaultProxy(
  config: VaultProxyConfig,
  logger: Logger,
): Promise<RunningService> {
  logger.info({ kid: config.signingKey.kid }, 'service keys loaded');
  return startService({
    service: 'vault-proxy',
    schema: config.schema,
    config,
    logger,
    migrations,
    module: (runtime) => AppModule.register(runtime),
  });
}
