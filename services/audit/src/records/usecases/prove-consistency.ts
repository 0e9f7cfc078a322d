import { consistencyProof } from '@heroagent/audit-chain';
import {
  CONSISTENCY_SEQUENCE_LIMIT,
  ContractError,
  type proveConsistency,
  type RpcRequest,
} from '@heroagent/contracts';
import type { KeyRegistry } from '../../keys/key-registry.js';
import type { RecordsRepository } from '../../store/records.repository.js';
import { requireWholeTenant } from '../access.js';

/**
 * `audit.proofs.consistency`: an RFC 9162 proof that a signed checkpoint (the latest by default)
 * extends the tree of `first` events, and the checkpoints signed from there to it (or from number
 * `sequenceFrom`: the next page of a sequence longer than one answer holds).
 */
export class ProveConsistency {
  constructor(
    private readonly records: RecordsRepository,
    private readonly keys: KeyRegistry,
  ) {}

  async execute(request: RpcRequest<typeof proveConsistency>) {
    const { viewer, first } = request;
    requireWholeTenant(viewer, 'read consistency proofs');
    if (request.second !== undefined && first > request.second) {
      throw new ContractError('INVALID_REQUEST', 'the first size must not exceed the second', [
        { path: 'first', message: `is larger than ${request.second}` },
      ]);
    }
    const second =
      request.second === undefined
        ? (await this.records.latestCheckpoints(viewer.tenantId, 1))[0]
        : await this.records.checkpoint(viewer.tenantId, request.second, true);
    if (second === undefined) {
      throw new ContractError(
        'NOT_FOUND',
        request.second === undefined ? 'no checkpoint signed yet' : 'no checkpoint of that size',
      );
    }
    const size = second.checkpoint.treeSize;
    if (first > size) {
      throw new ContractError(
        'INVALID_REQUEST',
        `the tree has ${size} events at its latest checkpoint`,
        [{ path: 'first', message: `is larger than the tree (${size})` }],
      );
    }
    const through = second.checkpoint.v === 2 ? second.checkpoint.index : undefined;
    if (
      request.sequenceFrom !== undefined &&
      (through === undefined || request.sequenceFrom > through)
    ) {
      throw new ContractError(
        'INVALID_REQUEST',
        `the sequence ends at checkpoint number ${through ?? '(none)'}`,
        [{ path: 'sequenceFrom', message: `is beyond the latest checkpoint's number` }],
      );
    }
    const [older, leaves, sequence, keys] = await Promise.all([
      this.records.checkpoint(viewer.tenantId, first, true),
      this.records.leafHashes(viewer.tenantId, size),
      this.records.checkpointSequence(
        viewer.tenantId,
        request.sequenceFrom === undefined ? { size: first } : { number: request.sequenceFrom },
        second,
        CONSISTENCY_SEQUENCE_LIMIT,
      ),
      this.keys.all(),
    ]);
    const last = sequence.at(-1)?.checkpoint;
    return {
      first: older ?? null,
      second,
      proof: consistencyProof(leaves, first).map((hash) => hash.toString('hex')),
      sequence,
      sequenceComplete: last !== undefined && indexOf(last) === indexOf(second.checkpoint),
      auditKeys: keys
        .filter((key) => key.service === 'audit')
        .map(({ service: _service, ...key }) => key),
    };
  }
}

function indexOf(checkpoint: { v: 1 | 2; index?: number; treeSize: number }): string {
  return checkpoint.v === 2 ? `#${checkpoint.index}` : `@${checkpoint.treeSize}`;
}
