import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import type { HealthReport, RpcContract } from '@heroagent/contracts';
import { pingDatabase, type Kysely } from '@heroagent/db';
import { RpcHandler } from '../nats/rpc-handler.decorator.js';
import { HealthService, type HealthIndicator, type ServiceIdentity } from './health.service.js';

type HealthContract = RpcContract<string, RpcContract['request'], RpcContract['response']>;

/** Checks that Postgres answers. */
export function postgresIndicator(db: Kysely<unknown>): HealthIndicator {
  return { name: 'postgres', check: () => pingDatabase(db) };
}

/** A service's health: its HealthService, and the handler answering its health contract. */
@Module({})
export class HealthModule {
  static forService(
    contract: HealthContract,
    identity: ServiceIdentity,
    indicators: readonly HealthIndicator[],
  ): DynamicModule {
    @Controller()
    class HealthHandler {
      constructor(@Inject(HealthService) private readonly health: HealthService) {}

      @RpcHandler(contract)
      get(): Promise<HealthReport> {
        return this.health.report();
      }
    }
    return {
      module: HealthModule,
      controllers: [HealthHandler],
      providers: [{ provide: HealthService, useValue: new HealthService(identity, indicators) }],
      exports: [HealthService],
    };
  }
}
