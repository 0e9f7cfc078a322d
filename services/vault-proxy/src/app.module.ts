import { Module, type DynamicModule } from '@nestjs/common';
import { healthContracts } from '@heroagent/contracts';
import { HealthModule, postgresIndicator, type ServiceRuntime } from '@heroagent/service';
import type { VaultProxyConfig } from './config.js';

/** The root module of vault-proxy. */
@Module({})
export class AppModule {
  static register(runtime: ServiceRuntime<VaultProxyConfig>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HealthModule.forService(healthContracts['vault-proxy'], runtime.identity, [
          postgresIndicator(runtime.db),
        ]),
      ],
    };
  }
}
