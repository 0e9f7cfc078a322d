import {
  BundleVerifier,
  checkpointLine,
  eventLine,
  headerLine,
  keyLine,
} from '@heroagent/audit-chain';
import type {
  RpcRequest,
  SignedAuditEvent,
  VerificationReport,
  verifyAuditChain,
} from '@heroagent/contracts';
import type { KeyRegistry } from '../../keys/key-registry.js';
import type { RecordsRepository } from '../../store/records.repository.js';
import { requireWholeTenant } from '../access.js';

/**
 * `audit.chain.verify`: the service's own check. It reads the tenant's stored record as a bundle
 * and runs the same verifier as the offline tool, trusting only its configured audit keys.
 */
export class VerifyChain {
  constructor(
    private readonly records: RecordsRepository,
    private readonly keys: KeyRegistry,
    private readonly pinnedAuditKeys: ReadonlySet<string>,
  ) {}

  async execute(request: RpcRequest<typeof verifyAuditChain>): Promise<VerificationReport> {
    requireWholeTenant(request.viewer, 'verify the audit record');
    return this.verifyTenant(request.viewer.tenantId);
  }

  async verifyTenant(tenantId: string): Promise<VerificationReport> {
    const verifier = new BundleVerifier({ trustedAuditKeys: this.pinnedAuditKeys });
    const head = await this.records.headSeq(tenantId);
    verifier.line(headerLine({ tenantId, exportedAt: new Date().toISOString(), events: head }));
    for (const key of await this.keys.all()) verifier.line(keyLine(key));
    const checkpoints = await this.records.checkpointsBetween(tenantId, 0, Number.MAX_SAFE_INTEGER);
    let next = 0;
    const feedCheckpointsUpTo = (size: number) => {
      while (next < checkpoints.length && checkpoints[next]!.checkpoint.treeSize <= size)
        verifier.line(checkpointLine(checkpoints[next++]!));
    };
    for await (const event of this.records.events(tenantId, 1, head)) {
      verifier.line(
        eventLine({
          seq: event.seq,
          prevHash: event.prevHash.toString('hex'),
          hash: event.hash.toString('hex'),
          envelope: JSON.parse(event.envelope) as SignedAuditEvent,
        }),
      );
      feedCheckpointsUpTo(event.seq);
      if (verifier.failed) break;
    }
    // Checkpoints over events that are no longer stored: a truncated record.
    feedCheckpointsUpTo(Number.MAX_SAFE_INTEGER);
    return verifier.finish();
  }
}
