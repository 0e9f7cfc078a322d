import { startService, type RunningService } from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { AppModule } from './app.module.js';
import type { AgentConfig } from './config.js';

/** Starts agent in this process: its database, then its NATS handlers. */
export async function startAgent(config: AgentConfig, logger: Logger): Promise<RunningService> {
  return startService({
    service: 'agent',
    schema: config.schema,
    config,
    logger,
    migrations,
    module: (runtime) => AppModule.register(runtime),
  });
}
