import { Module, type DynamicModule } from '@nestjs/common';
import { healthContracts } from '@heroagent/contracts';
import {
  ContractClient,
  HealthModule,
  HealthService,
  postgresIndicator,
  type ServiceRuntime,
} from '@heroagent/service';
import type { GatewayConfig } from './config.js';
import { ProbesController } from './probes/probes.controller.js';
import { ReadinessService } from './probes/readiness.service.js';

/** What the gateway's root module is built from, beyond the common runtime. */
export interface GatewayRuntime extends ServiceRuntime<GatewayConfig> {
  readonly client: ContractClient;
}

/** The gateway's root module. */
@Module({})
export class AppModule {
  static register(runtime: GatewayRuntime): DynamicModule {
    const health = HealthModule.forService(healthContracts.gateway, runtime.identity, [
      postgresIndicator(runtime.db),
      { name: 'nats', check: () => runtime.client.ping() },
    ]);
    return {
      module: AppModule,
      imports: [health],
      controllers: [ProbesController],
      providers: [
        { provide: ContractClient, useValue: runtime.client },
        {
          provide: ReadinessService,
          useFactory: (healthService: HealthService) =>
            new ReadinessService(healthService, runtime.client),
          inject: [HealthService],
        },
      ],
    };
  }
}
