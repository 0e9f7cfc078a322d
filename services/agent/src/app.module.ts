import { Module, type DynamicModule } from '@nestjs/common';
import { healthContracts } from '@heroagent/contracts';
import { HealthModule, postgresIndicator, type ServiceRuntime } from '@heroagent/service';
import type { AgentConfig } from './config.js';

/** The root module of agent. */
@Module({})
export class AppModule {
  static register(runtime: ServiceRuntime<AgentConfig>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HealthModule.forService(healthContracts.agent, runtime.identity, [
          postgresIndicator(runtime.db),
        ]),
      ],
    };
  }
}
