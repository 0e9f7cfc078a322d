import { Module, type DynamicModule } from '@nestjs/common';
import { healthContracts } from '@heroagent/contracts';
import { HealthModule, postgresIndicator, type ServiceRuntime } from '@heroagent/service';
import type { AuditConfig } from './config.js';

/** The root module of audit. */
@Module({})
export class AppModule {
  static register(runtime: ServiceRuntime<AuditConfig>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HealthModule.forService(healthContracts.audit, runtime.identity, [
          postgresIndicator(runtime.db),
        ]),
      ],
    };
  }
}
