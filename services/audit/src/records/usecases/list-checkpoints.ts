import type { listCheckpoints, RpcRequest } from '@heroagent/contracts';
import type { RecordsRepository } from '../../store/records.repository.js';
import { requireWholeTenant } from '../access.js';

/** `audit.checkpoints.list`: the tenant's signed tree heads, newest first. */
export class ListCheckpoints {
  constructor(private readonly records: RecordsRepository) {}

  async execute(request: RpcRequest<typeof listCheckpoints>) {
    requireWholeTenant(request.viewer, 'list checkpoints');
    return {
      checkpoints: await this.records.latestCheckpoints(request.viewer.tenantId, request.limit),
    };
  }
}
