import { metrics } from '@opentelemetry/api';
import type { CheckedMessage, VerifierPool } from '@heroagent/audit-chain';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '@heroagent/telemetry';
import type { Checkpointer } from '../checkpoints/checkpointer.js';
import type {
  ChainRepository,
  QuarantinedEvent,
  VerifiedEvent,
} from '../store/chain.repository.js';
import { Batcher } from './batcher.js';

const LINGER_MS = 10;
const RETRY_MS = 1_000;

/**
 * The ingest loop: pulls events from the durable consumer in batches, checks them on the verifier
 * pool, chains and stores the good ones and quarantines the rest in one transaction, and only then
 * acknowledges every message of the batch. A failed batch is not acknowledged: JetStream delivers
 * it again, and the store's event-id uniqueness makes the retry harmless.
 */
export class IngestService {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly batcher: Batcher<JsMsg>;
  private readonly quarantineCounter = metrics
    .getMeter('heroagent-audit')
    .createCounter('heroagent.audit.quarantined', {
      description: 'Audit events refused and quarantined, by reason',
    });
  private readonly droppedCounter = metrics
    .getMeter('heroagent-audit')
    .createCounter('heroagent.audit.quarantine_dropped', {
      description: 'Refused audit events over the quarantine budget: counted, not kept',
    });
  private readonly ingestedCounter = metrics
    .getMeter('heroagent-audit')
    .createCounter('heroagent.audit.ingested', {
      description: 'Audit events verified, chained and committed',
    });

  constructor(
    private readonly pool: VerifierPool,
    private readonly chain: ChainRepository,
    private readonly checkpointer: Checkpointer,
    private readonly batchSize: number,
    private readonly logger: Logger,
  ) {
    this.batcher = new Batcher(batchSize, LINGER_MS);
  }

  /** Starts pulling from the provisioned durable consumer. */
  async start(consumer: Consumer): Promise<void> {
    this.messages = await consumer.consume({ max_messages: this.batchSize * 2 });
    const messages = this.messages;
    void (async () => {
      for await (const message of messages) this.batcher.push(message);
      this.batcher.close();
    })();
    this.loop = this.run();
  }

  /** Stops pulling, finishes the batch in hand, and returns once it is committed and acknowledged. */
  async stop(): Promise<void> {
    await this.messages?.close();
    this.batcher.close();
    await this.loop;
  }

  /**
   * One batch is verified while the one before it commits: the verifier pool and Postgres work
   * at the same time, and commits still happen one after another, in batch order.
   */
  private async run(): Promise<void> {
    let committing: Promise<void> = Promise.resolve();
    for (;;) {
      const batch = await this.batcher.next();
      if (batch === undefined) break;
      if (batch.length === 0) continue;
      const checking = this.pool.check(
        batch.map((message) => ({ subject: message.subject, data: message.data })),
      );
      // Observed here so a failure is not unhandled while the previous commit finishes.
      checking.catch(() => undefined);
      await committing;
      committing = checking
        .then((checked) => this.commit(batch, checked))
        .catch(async (error: unknown) => {
          this.logger.error(
            { err: error, code: 'AUDIT_INGEST_FAILED', messages: batch.length },
            'audit batch not stored; it will be redelivered',
          );
          for (const message of batch) message.nak(RETRY_MS);
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        });
    }
    await committing;
  }

  private async commit(batch: readonly JsMsg[], checked: readonly CheckedMessage[]): Promise<void> {
    const receivedAt = new Date();
    const verified: VerifiedEvent[] = [];
    const quarantined: QuarantinedEvent[] = [];
    checked.forEach((result, index) => {
      const message = batch[index]!;
      if (result.ok) {
        verified.push({
          columns: result.columns,
          canonical: result.canonical,
          leafHash: result.leafHash,
          receivedAt,
        });
      } else {
        quarantined.push({
          subject: message.subject,
          streamSeq: message.seq,
          ...(result.tenantId === undefined ? {} : { tenantId: result.tenantId }),
          ...(result.eventId === undefined ? {} : { eventId: result.eventId }),
          reason: result.reason,
          detail: result.detail,
          payload: message.data,
        });
      }
    });
    const outcome = await this.chain.appendBatch(verified, quarantined);
    for (const message of batch) message.ack();
    this.ingestedCounter.add(outcome.appended);
    for (const item of outcome.dropped) this.droppedCounter.add(1, { reason: item.reason });
    if (outcome.dropped.length > 0) {
      this.logger.warn(
        {
          code: 'AUDIT_QUARANTINE_OVER_BUDGET',
          dropped: outcome.dropped.length,
          subjects: [...new Set(outcome.dropped.map((item) => item.subject))].slice(0, 10),
        },
        `${outcome.dropped.length} refused audit events over the quarantine budget: counted, not kept`,
      );
    }
    for (const item of outcome.quarantined) {
      this.quarantineCounter.add(1, { reason: item.reason });
      this.logger.error(
        {
          code: 'AUDIT_EVENT_QUARANTINED',
          reason: item.reason,
          tenantId: item.tenantId,
          eventId: item.eventId,
          subject: item.subject,
        },
        `audit event quarantined: ${item.detail}`,
      );
    }
    if (outcome.appended > 0) await this.checkpointer.checkpointDue();
  }
}
