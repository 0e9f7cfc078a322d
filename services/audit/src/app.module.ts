import { Module, type DynamicModule } from '@nestjs/common';
import { healthContracts } from '@heroagent/contracts';
import type { Kysely } from '@heroagent/db';
import { HealthModule, postgresIndicator, type ServiceRuntime } from '@heroagent/service';
import { Checkpointer } from './checkpoints/checkpointer.js';
import type { AuditConfig } from './config.js';
import { IngestLifecycle } from './ingest/ingest.lifecycle.js';
import { KeyRegistry, pinnedAuditKeys } from './keys/key-registry.js';
import { RecordsHandler } from './records/records.handler.js';
import { ExportBundle } from './records/usecases/export-bundle.js';
import { ListCheckpoints } from './records/usecases/list-checkpoints.js';
import { ProveConsistency } from './records/usecases/prove-consistency.js';
import { ProveInclusion } from './records/usecases/prove-inclusion.js';
import { QueryRecords } from './records/usecases/query-records.js';
import { VerifyChain } from './records/usecases/verify-chain.js';
import { CheckpointDelivery } from './siem/checkpoint-delivery.js';
import { HeaderVault } from './siem/header-vault.js';
import { DestinationGuard } from './siem/destination-guard.js';
import { SiemHandler } from './siem/siem.handler.js';
import { SiemRepository } from './siem/siem.repository.js';
import { SiemStreamer } from './siem/siem.streamer.js';
import { ChainRepository } from './store/chain.repository.js';
import { RecordsRepository } from './store/records.repository.js';
import type { AuditDatabase } from './store/tables.js';

/** The audit service's root module: every part built explicitly from the runtime. */
@Module({})
export class AppModule {
  static register(runtime: ServiceRuntime<AuditConfig>): DynamicModule {
    const { config, logger } = runtime;
    const db = runtime.db as Kysely<AuditDatabase>;
    const keys = new KeyRegistry(db);
    const chain = new ChainRepository(db, config.ingest.lanes, config.ingest.quarantineBudget);
    const records = new RecordsRepository(db);
    const checkpointer = new Checkpointer(db, config.signingKey, config.checkpoints, logger);
    const siem = new SiemRepository(db);
    const vault = new HeaderVault(config.secretsKey);
    const guard = new DestinationGuard(config.siem.allowPrivateNetworks);
    const delivery = new CheckpointDelivery(
      siem,
      records,
      vault,
      config.signingKey,
      guard,
      { batchSize: config.siem.batchSize, timeoutMs: config.siem.timeoutMs },
      logger,
    );
    const streamer = new SiemStreamer(siem, records, vault, guard, config.siem, logger, delivery);
    const ingest = new IngestLifecycle(config, keys, chain, checkpointer, streamer, logger);
    const value = <T>(provide: abstract new (...args: never[]) => T, useValue: T) => ({
      provide,
      useValue,
    });
    return {
      module: AppModule,
      imports: [
        HealthModule.forService(healthContracts.audit, runtime.identity, [
          postgresIndicator(runtime.db),
          { name: 'jetstream', check: () => ingest.ping() },
        ]),
      ],
      controllers: [RecordsHandler, SiemHandler],
      providers: [
        value(IngestLifecycle, ingest),
        value(SiemRepository, siem),
        value(HeaderVault, vault),
        value(SiemStreamer, streamer),
        value(DestinationGuard, guard),
        value(Checkpointer, checkpointer),
        value(QueryRecords, new QueryRecords(records)),
        value(ExportBundle, new ExportBundle(records, keys, checkpointer)),
        value(ProveInclusion, new ProveInclusion(records, checkpointer)),
        value(ProveConsistency, new ProveConsistency(records, keys)),
        value(ListCheckpoints, new ListCheckpoints(records)),
        value(
          VerifyChain,
          new VerifyChain(records, keys, pinnedAuditKeys(config.signingKey, config.trustedKeys)),
        ),
      ],
    };
  }
}
