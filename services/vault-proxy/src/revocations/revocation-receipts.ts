import {
  acknowledgeRevocationReceipts,
  type listRevocationReceipts,
  type RpcRequest,
} from '@heroagent/contracts';
import type { GrantVerifier } from '../grants/grant-verifier.js';
import type { RevocationsRepository } from './revocations.repository.js';

/**
 * Deletion receipts on their way to the audit log: the gateway lists the ones not yet recorded,
 * records each as an audit event through its outbox (once per receipt id), then acknowledges
 * them. A receipt stays listed until acknowledged, so none is lost if the gateway stops between.
 */
export class RevocationReceipts {
  constructor(
    private readonly grants: GrantVerifier,
    private readonly revocations: RevocationsRepository,
  ) {}

  async list(request: RpcRequest<typeof listRevocationReceipts>) {
    return { receipts: await this.revocations.unreported(request.limit) };
  }

  async acknowledge(request: RpcRequest<typeof acknowledgeRevocationReceipts>) {
    const grant = await this.grants.verify(acknowledgeRevocationReceipts, request);
    return { acknowledged: await this.revocations.acknowledge(grant.receiptIds) };
  }
}
