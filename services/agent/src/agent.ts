import { agentTaskStopped } from '@heroagent/contracts';
import { ContractClient, startService, type RunningService } from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { AppModule } from './app.module.js';
import type { AgentConfig } from './config.js';
import { NatsGateway } from './gateway/gateway-link.js';
import { OpenAiCompatibleModel } from './models/openai-compatible-model.js';
import { TaskRunner, type ModelFactory } from './tasks/task-runner.js';

/**
 * Starts agent in this process: its database, its client of the gateway, then its NATS handlers.
 * `models` builds the model client of a provider (tests may pass their own).
 */
export async function startAgent(
  config: AgentConfig,
  logger: Logger,
  models: ModelFactory = (provider) => new OpenAiCompatibleModel(provider, config.models.timeoutMs),
): Promise<RunningService> {
  const client = ContractClient.create(config.nats, 'agent');
  try {
    await client.connect();
    const service = await startService({
      service: 'agent',
      schema: config.schema,
      config,
      logger,
      migrations,
      module: (runtime) => AppModule.register(runtime, new NatsGateway(client), models),
    });
    // Every replica hears that a task stopped; the one working on it stops it.
    const runner = service.app.get(TaskRunner);
    const stopListening = await client.subscribe(agentTaskStopped, (stop) => {
      runner.stop(stop.tenantId, stop.taskId, stop.reason);
    });
    return {
      app: service.app,
      refusals: service.refusals,
      async close() {
        stopListening();
        // Tasks in progress report that they stopped before the client to the gateway closes.
        await service.close();
        await client.close();
      },
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}
