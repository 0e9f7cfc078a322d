import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { SigningKey } from '@heroagent/crypto';
import type { Logger } from '@heroagent/telemetry';
import type { RecordsRepository } from '../store/records.repository.js';
import { assertWebhookEndpoint, postCheckpoint, webhookRequest } from './checkpoint-webhook.js';
import type { CheckedEndpoint, DestinationGuard } from './destination-guard.js';
import { toCheckpointLogRecord } from './checkpoint-records.js';
import type { HeaderVault } from './header-vault.js';
import type { SiemRepository, StoredDestination } from './siem.repository.js';
import { deferDestination } from './siem.streamer.js';

/** How a delivery sends: OTLP through the streamer's exporter, or a webhook POST. */
export interface CheckpointSender {
  send(
    destination: StoredDestination,
    records: ReadableLogRecord[],
  ): Promise<{ delivered: boolean; error?: string }>;
}

/**
 * Delivers each tenant's signed checkpoints to its destinations, in number order, from the
 * destination's cursor (`checkpoints_through`) in Postgres: an OTLP destination gets those whose
 * events it already received, as log records beside them; a webhook gets every one, one POST
 * each. The cursor moves only past what the receiver accepted; a failure backs the destination
 * off like an event export. Runs inside the streamer's per-destination lock, so one replica
 * delivers a destination at a time.
 */
export class CheckpointDelivery {
  constructor(
    private readonly siem: SiemRepository,
    private readonly records: RecordsRepository,
    private readonly vault: HeaderVault,
    private readonly key: SigningKey,
    private readonly guard: DestinationGuard,
    private readonly options: { batchSize: number; timeoutMs: number },
    private readonly logger: Logger,
  ) {}

  async deliver(
    tenantId: string,
    destination: StoredDestination,
    sender: CheckpointSender,
  ): Promise<void> {
    const pending = await this.records.checkpointsAfter(
      tenantId,
      destination.checkpoints_through,
      destination.kind === 'otlp' ? destination.exported_through_seq : Number.MAX_SAFE_INTEGER,
      this.options.batchSize,
    );
    if (pending.length === 0) return;
    let through = destination.checkpoints_through;
    let outcome: { delivered: boolean; error?: string } = { delivered: true };
    if (destination.kind === 'otlp') {
      outcome = await sender.send(
        destination,
        pending.map(({ signed }) => toCheckpointLogRecord(signed)),
      );
      if (outcome.delivered) through = pending.at(-1)!.index;
    } else {
      let headers: Record<string, string> | undefined;
      let checked: CheckedEndpoint | undefined;
      try {
        // Again before sending: the name may resolve elsewhere than when it was configured.
        checked = await assertWebhookEndpoint(this.guard, destination.endpoint);
      } catch (error) {
        outcome = {
          delivered: false,
          error: error instanceof Error ? error.message : 'endpoint refused',
        };
      }
      try {
        if (outcome.delivered)
          headers = this.vault.open(tenantId, destination.id, destination.headers_ciphertext);
      } catch {
        outcome = {
          delivered: false,
          error: 'the destination headers cannot be decrypted (was AUDIT_SECRETS_KEY changed?)',
        };
      }
      for (const { index, signed } of headers === undefined ? [] : pending) {
        const request = webhookRequest(destination.id, signed, this.key, new Date());
        outcome = await postCheckpoint(
          this.guard,
          checked!,
          headers!,
          request,
          this.options.timeoutMs,
        );
        if (!outcome.delivered) break;
        through = index;
      }
    }
    if (through > destination.checkpoints_through)
      await this.siem.markCheckpointsDelivered(tenantId, destination.id, through);
    if (!outcome.delivered) {
      await deferDestination(this.siem, this.logger, tenantId, destination, {
        error: outcome.error,
        fallback: 'delivery failed',
        code: 'AUDIT_CHECKPOINT_DELIVERY_FAILED',
        message: 'a destination did not accept signed checkpoints; retrying later',
      });
    }
  }
}
