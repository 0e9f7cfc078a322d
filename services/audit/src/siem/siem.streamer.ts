import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { SignedAuditEvent } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { RecordsRepository } from '../store/records.repository.js';
import type { CheckpointDelivery } from './checkpoint-delivery.js';
import type { CheckedEndpoint, DestinationGuard } from './destination-guard.js';
import type { HeaderVault } from './header-vault.js';
import { toLogRecord } from './log-records.js';
import { exportLogRecords } from './otlp-export.js';
import type { SiemRepository, StoredDestination } from './siem.repository.js';

/** How the streamer sends. */
export interface StreamerOptions {
  readonly batchSize: number;
  readonly pollMs: number;
  readonly timeoutMs: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;

/** Exponential backoff with ±20% jitter: 1 s, 2 s, 4 s … up to five minutes. */
export function backoffMs(failures: number, random = Math.random()): number {
  const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + 0.4 * random));
}

/**
 * A destination that refused what was sent: its failure counted, its next try put off by
 * `backoffMs`, and a warning logged under `code`. The one path for events and checkpoints alike.
 */
export async function deferDestination(
  siem: Pick<SiemRepository, 'markFailed'>,
  logger: Logger,
  tenantId: string,
  destination: Pick<StoredDestination, 'id' | 'failures'>,
  failure: {
    readonly error: string | undefined;
    readonly fallback: string;
    readonly code: string;
    readonly message: string;
  },
): Promise<void> {
  const failures = destination.failures + 1;
  const retryIn = backoffMs(failures);
  await siem.markFailed(
    tenantId,
    destination.id,
    failures,
    new Date(Date.now() + retryIn),
    failure.error ?? failure.fallback,
  );
  logger.warn(
    {
      code: failure.code,
      tenantId,
      destination: destination.id,
      failures,
      retryInMs: retryIn,
      error: failure.error,
    },
    failure.message,
  );
}

/**
 * Streams each tenant's audit records to its SIEM destinations as OpenTelemetry logs over
 * OTLP/HTTP (JSON or protobuf), in chain order. A destination's cursor (`exported_through_seq`)
 * advances only after the receiver accepted a batch, so a restart resends at most the batch in
 * flight (at-least-once, with stable event ids), and a receiver that is down is retried with
 * backoff without holding up the others. Of several replicas, one streams a destination at a time.
 * After the events, the tenant's signed checkpoints follow ({@link CheckpointDelivery}).
 */
export class SiemStreamer {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly siem: SiemRepository,
    private readonly records: RecordsRepository,
    private readonly vault: HeaderVault,
    private readonly guard: DestinationGuard,
    private readonly options: StreamerOptions,
    private readonly logger: Logger,
    private readonly checkpoints: CheckpointDelivery,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Sends records to one destination now; used by the "test send". */
  async send(
    destination: StoredDestination,
    records: ReadableLogRecord[],
  ): Promise<{ delivered: boolean; error?: string }> {
    let checked: CheckedEndpoint;
    try {
      checked = await this.guard.check(destination.endpoint);
    } catch (error) {
      return {
        delivered: false,
        error: error instanceof Error ? error.message : 'endpoint refused',
      };
    }
    let headers: Record<string, string>;
    try {
      headers = this.vault.open(
        destination.tenant_id,
        destination.id,
        destination.headers_ciphertext,
      );
    } catch {
      return {
        delivered: false,
        error: 'the destination headers cannot be decrypted (was AUDIT_SECRETS_KEY changed?)',
      };
    }
    return exportLogRecords(this.guard, checked, {
      encoding: destination.encoding,
      headers,
      timeoutMs: this.options.timeoutMs,
      records,
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.cycle();
      } catch (error) {
        this.logger.error(
          { err: error, code: 'AUDIT_SIEM_CYCLE_FAILED' },
          'SIEM streaming cycle failed',
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * One pass over every tenant's due destinations; a destination another replica is streaming
   * is left to it (its cursor is read again once this replica holds it).
   */
  async cycle(): Promise<void> {
    for (const tenantId of await this.siem.activeTenants()) {
      for (const destination of await this.siem.due(tenantId, new Date())) {
        if (this.stopped) return;
        await this.siem.streamAlone(tenantId, destination.id, new Date(), async (current) => {
          // Events first (a webhook takes none), then the signed checkpoints over them.
          const through =
            current.kind === 'otlp'
              ? await this.drain(tenantId, current)
              : current.exported_through_seq;
          if (through === undefined) return;
          const failures = through > current.exported_through_seq ? 0 : current.failures;
          await this.checkpoints.deliver(
            tenantId,
            { ...current, exported_through_seq: through, failures },
            this,
          );
        });
      }
    }
  }

  /** Sends the events not yet sent; answers how far the destination now is, or undefined on failure. */
  private async drain(
    tenantId: string,
    destination: StoredDestination,
  ): Promise<number | undefined> {
    let through = destination.exported_through_seq;
    const head = await this.records.headSeq(tenantId);
    while (through < head && !this.stopped) {
      const batch: ReadableLogRecord[] = [];
      let last = through;
      for await (const event of this.records.events(
        tenantId,
        through + 1,
        Math.min(head, through + this.options.batchSize),
      )) {
        batch.push(
          toLogRecord(JSON.parse(event.envelope) as SignedAuditEvent, {
            seq: event.seq,
            hash: event.hash.toString('hex'),
            receivedAt: event.receivedAt,
          }),
        );
        last = event.seq;
      }
      if (batch.length === 0) return through;
      const outcome = await this.send(destination, batch);
      if (!outcome.delivered) {
        await deferDestination(this.siem, this.logger, tenantId, destination, {
          error: outcome.error,
          fallback: 'export failed',
          code: 'AUDIT_SIEM_EXPORT_FAILED',
          message: 'SIEM destination did not accept the records; retrying later',
        });
        return undefined;
      }
      await this.siem.markDelivered(tenantId, destination.id, last);
      through = last;
    }
    return through;
  }
}
