import { startService, type RunningService } from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { AppModule } from './app.module.js';
import type { AuditConfig } from './config.js';

/** Starts audit in this process: its database, then its NATS handlers. */
export async function startAudit(config: AuditConfig, logger: Logger): Promise<RunningService> {
  logger.info({ kid: config.signingKey.kid }, 'service keys loaded');
  return startService({
    service: 'audit',
    schema: config.schema,
    config,
    logger,
    migrations,
    module: (runtime) => AppModule.register(runtime),
  });
}
