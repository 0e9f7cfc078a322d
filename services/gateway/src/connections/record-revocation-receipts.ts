import type { Logger } from '@heroagent/telemetry';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { VaultProxyClient } from './vault-proxy.client.js';

const BATCH = 50;

/** Postgres unique_violation: the outbox already holds an event with this id. */
function alreadyRecorded(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/**
 * Turns vault-proxy's deletion receipts into audit events, at least once and stored once: each
 * receipt becomes a `connection.revocation_confirmed` event whose id is the receipt's id, written
 * to the gateway's outbox (a second write of it is refused by the outbox's key, and audit stores
 * an event id once per tenant), and only then acknowledged to vault-proxy, which lists a receipt
 * until it is. Replicas may run it at once: the worst is a refused duplicate write.
 */
export class RecordRevocationReceipts {
  constructor(
    private readonly vault: VaultProxyClient,
    private readonly audit: AuditRecorder,
    private readonly logger: Logger,
  ) {}

  /** Records the receipts waiting, one batch; answers how many were acknowledged. */
  async execute(): Promise<number> {
    const receipts = await this.vault.receipts(BATCH);
    if (receipts.length === 0) return 0;
    for (const receipt of receipts) {
      try {
        await this.audit.record({
          id: receipt.id,
          tenantId: receipt.tenantId,
          name: 'connection.revocation_confirmed',
          actor: { type: 'service', id: 'vault-proxy' },
          userId: receipt.userId,
          outcome: 'success',
          data: {
            receiptId: receipt.id,
            connectionId: receipt.connectionId,
            provider: receipt.provider,
            scopes: receipt.scopes,
            reason: receipt.reason,
            requestedAt: receipt.requestedAt,
            completedAt: receipt.completedAt ?? null,
            attempts: receipt.attempts,
            providerStatus: receipt.providerStatus ?? null,
            providerAnswer: receipt.providerAnswer ?? null,
          },
        });
      } catch (error) {
        if (!alreadyRecorded(error)) throw error;
      }
    }
    const acknowledged = await this.vault.acknowledge(receipts.map((receipt) => receipt.id));
    this.logger.info(
      { receipts: receipts.length, acknowledged },
      'deletion receipts recorded in audit',
    );
    return receipts.length;
  }
}
