import { Controller, Inject } from '@nestjs/common';
import {
  exportAuditBundle,
  listCheckpoints,
  proveConsistency,
  proveInclusion,
  queryAuditRecords,
  verifyAuditChain,
  type RpcRequest,
} from '@heroagent/contracts';
import { RpcHandler } from '@heroagent/service';
import { ExportBundle } from './usecases/export-bundle.js';
import { ListCheckpoints } from './usecases/list-checkpoints.js';
import { ProveConsistency } from './usecases/prove-consistency.js';
import { ProveInclusion } from './usecases/prove-inclusion.js';
import { QueryRecords } from './usecases/query-records.js';
import { VerifyChain } from './usecases/verify-chain.js';

/** The audit record over NATS, for the gateway and, through it, the console. */
@Controller()
export class RecordsHandler {
  constructor(
    @Inject(QueryRecords) private readonly queryRecords: QueryRecords,
    @Inject(ExportBundle) private readonly exportBundle: ExportBundle,
    @Inject(ProveInclusion) private readonly proveInclusion: ProveInclusion,
    @Inject(ProveConsistency) private readonly proveConsistency: ProveConsistency,
    @Inject(ListCheckpoints) private readonly listCheckpoints: ListCheckpoints,
    @Inject(VerifyChain) private readonly verifyChain: VerifyChain,
  ) {}

  @RpcHandler(queryAuditRecords)
  query(request: RpcRequest<typeof queryAuditRecords>) {
    return this.queryRecords.execute(request);
  }

  @RpcHandler(exportAuditBundle)
  export(request: RpcRequest<typeof exportAuditBundle>) {
    return this.exportBundle.execute(request);
  }

  @RpcHandler(proveInclusion)
  inclusion(request: RpcRequest<typeof proveInclusion>) {
    return this.proveInclusion.execute(request);
  }

  @RpcHandler(proveConsistency)
  consistency(request: RpcRequest<typeof proveConsistency>) {
    return this.proveConsistency.execute(request);
  }

  @RpcHandler(listCheckpoints)
  checkpoints(request: RpcRequest<typeof listCheckpoints>) {
    return this.listCheckpoints.execute(request);
  }

  @RpcHandler(verifyAuditChain)
  verify(request: RpcRequest<typeof verifyAuditChain>) {
    return this.verifyChain.execute(request);
  }
}
