import { Module, type DynamicModule } from '@nestjs/common';
import { healthContracts } from '@heroagent/contracts';
import { HealthModule, postgresIndicator, type ServiceRuntime } from '@heroagent/service';
import type { AgentConfig } from './config.js';
import type { Gateway } from './gateway/gateway-link.js';
import { TaskRunner, type ModelFactory } from './tasks/task-runner.js';
import { TasksHandler } from './tasks/tasks.handler.js';
import { AGENT_MODELS } from './tasks/tokens.js';

/** The root module of agent: its tasks, and nothing that holds a credential. */
@Module({})
export class AppModule {
  static register(
    runtime: ServiceRuntime<AgentConfig>,
    gateway: Gateway,
    models: ModelFactory,
  ): DynamicModule {
    const { config, logger } = runtime;
    return {
      module: AppModule,
      imports: [
        HealthModule.forService(healthContracts.agent, runtime.identity, [
          postgresIndicator(runtime.db),
        ]),
      ],
      controllers: [TasksHandler],
      providers: [
        { provide: TaskRunner, useValue: new TaskRunner(config, models, gateway, logger) },
        { provide: AGENT_MODELS, useValue: config.models },
      ],
    };
  }
}
