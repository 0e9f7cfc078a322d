import { inclusionProof } from '@heroagent/audit-chain';
import {
  ContractError,
  type proveInclusion,
  type RpcRequest,
  type SignedCheckpoint,
} from '@heroagent/contracts';
import type { Checkpointer } from '../../checkpoints/checkpointer.js';
import type { RecordsRepository } from '../../store/records.repository.js';
import { seesWholeTenant } from '../access.js';

/** `audit.proofs.inclusion`: an RFC 9162 audit path from an event to a signed checkpoint. */
export class ProveInclusion {
  constructor(
    private readonly records: RecordsRepository,
    private readonly checkpointer: Checkpointer,
  ) {}

  async execute(request: RpcRequest<typeof proveInclusion>) {
    const { viewer } = request;
    const located = await this.records.locate(viewer.tenantId, request.eventId);
    // A member asking about someone else's event learns nothing, not even that it exists.
    if (located === undefined || (!seesWholeTenant(viewer) && located.userId !== viewer.userId)) {
      throw new ContractError('NOT_FOUND', 'no such event');
    }
    const checkpoint = await this.checkpointFor(viewer.tenantId, located.seq, request.treeSize);
    const size = checkpoint.checkpoint.treeSize;
    const leaves = await this.records.leafHashes(viewer.tenantId, size);
    return {
      leafIndex: located.seq - 1,
      leafHash: located.leafHash.toString('hex'),
      proof: inclusionProof(leaves, located.seq - 1).map((hash) => hash.toString('hex')),
      checkpoint,
    };
  }

  private async checkpointFor(
    tenantId: string,
    seq: number,
    treeSize: number | undefined,
  ): Promise<SignedCheckpoint> {
    if (treeSize !== undefined) {
      const exact =
        treeSize >= seq ? await this.records.checkpoint(tenantId, treeSize, true) : undefined;
      if (exact === undefined)
        throw new ContractError(
          'NOT_FOUND',
          `no checkpoint of size ${treeSize} covering the event`,
        );
      return exact;
    }
    const covering =
      (await this.records.checkpoint(tenantId, seq, false)) ??
      (await this.checkpointer.checkpoint(tenantId));
    if (covering === undefined)
      throw new ContractError('NOT_FOUND', 'no checkpoint covers the event');
    return covering;
  }
}
