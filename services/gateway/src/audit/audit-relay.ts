import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { auditEventSubject } from '@heroagent/contracts';
import type { Kysely } from '@heroagent/db';
import { natsConnectionOptions, type NatsConfig } from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import type { GatewayDatabase } from '../store-tables.js';

/**
 * Publishes the gateway's audit outbox to JetStream, oldest first, marking each event published
 * once the stream acknowledged it. It runs when nudged (an event was recorded) and every few
 * seconds (to retry after audit or NATS was down). Published rows are kept a day for diagnosis.
 */
export class AuditRelay {
  private connection: NatsConnection | undefined;
  private client: JetStreamClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    /** The relay's own role: it reads and marks every tenant's outbox, and nothing else. */
    private readonly db: Kysely<GatewayDatabase>,
    /** The relay's own NATS user (the gateway's config `relayNats`). */
    private readonly nats: NatsConfig,
    private readonly logger: Logger,
    private readonly options: { intervalMs: number; batch: number } = {
      intervalMs: 2_000,
      batch: 200,
    },
  ) {}

  async start(): Promise<void> {
    // Its own NATS user where there are users (deploy/nats: `gateway-relay`, audit.events.* only).
    this.connection = await connect(natsConnectionOptions(this.nats, 'gateway-relay'));
    this.client = jetstream(this.connection, { timeout: 5_000 });
    this.timer = setInterval(() => this.nudge(), this.options.intervalMs);
    this.timer.unref();
    this.nudge();
  }

  /** Publishes what is pending, now (coalesced with a run in progress). */
  nudge(): void {
    if (this.stopped || this.client === undefined) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) =>
        this.logger.warn({ err: String(error) }, 'audit outbox: publishing failed; will retry'),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Waits for the run in progress (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.flush();
    await this.connection?.drain();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const published = await this.publishBatch();
      if (published < this.options.batch) break;
    }
    await this.db
      .deleteFrom('audit_outbox')
      .where('published_at', '<', new Date(Date.now() - 86_400_000))
      .execute();
  }

  private async publishBatch(): Promise<number> {
    const client = this.client!;
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('audit_outbox')
        .select(['id', 'tenant_id', 'envelope'])
        .where('published_at', 'is', null)
        .orderBy('created_at')
        .limit(this.options.batch)
        .forUpdate()
        .skipLocked()
        .execute();
      let published = 0;
      for (const row of rows) {
        try {
          await client.publish(auditEventSubject(row.tenant_id), JSON.stringify(row.envelope), {
            msgID: row.id,
          });
        } catch (error) {
          await trx
            .updateTable('audit_outbox')
            .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
            .where('id', '=', row.id)
            .execute();
          throw error;
        }
        await trx
          .updateTable('audit_outbox')
          .set({ published_at: new Date() })
          .where('id', '=', row.id)
          .execute();
        published += 1;
      }
      return published;
    });
  }
}
