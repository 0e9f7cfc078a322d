import { consistencyProof } from '@heroagent/audit-chain';
import { ContractError, type proveConsistency, type RpcRequest } from '@heroagent/contracts';
import type { RecordsRepository } from '../../store/records.repository.js';
import { requireWholeTenant } from '../access.js';

/** `audit.proofs.consistency`: an RFC 9162 proof that a later checkpoint extends an earlier one. */
export class ProveConsistency {
  constructor(private readonly records: RecordsRepository) {}

  async execute(request: RpcRequest<typeof proveConsistency>) {
    const { viewer, first, second } = request;
    requireWholeTenant(viewer, 'read consistency proofs');
    if (first > second) {
      throw new ContractError(
        'INVALID_REQUEST',
        'the first checkpoint must not be larger than the second',
        [{ path: 'first', message: 'larger than second' }],
      );
    }
    const [older, newer] = await Promise.all([
      this.records.checkpoint(viewer.tenantId, first, true),
      this.records.checkpoint(viewer.tenantId, second, true),
    ]);
    if (older === undefined || newer === undefined)
      throw new ContractError('NOT_FOUND', 'no checkpoint of that size');
    const leaves = await this.records.leafHashes(viewer.tenantId, second);
    return {
      first: older,
      second: newer,
      proof: consistencyProof(leaves, first).map((hash) => hash.toString('hex')),
    };
  }
}
