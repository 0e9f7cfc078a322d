import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { VerifierPool } from '@heroagent/audit-chain';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { natsConnectionOptions } from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import type { Checkpointer } from '../checkpoints/checkpointer.js';
import type { AuditConfig } from '../config.js';
import type { KeyRegistry } from '../keys/key-registry.js';
import { AUDIT_CONSUMER, AUDIT_STREAM } from '../provisioning/audit-stream.js';
import { AuditStreamError } from '../provisioning/provisioning.errors.js';
import type { SiemStreamer } from '../siem/siem.streamer.js';
import type { ChainRepository } from '../store/chain.repository.js';
import { IngestService } from './ingest.service.js';
import { openAuditConsumer } from './jetstream.js';

const RETRY_MS = 5_000;

/**
 * Starts what runs beside the RPC handlers once the app is up — the key registry sync, the
 * verifier pool, the ingest loop on the provisioned consumer, the checkpoint timer and the SIEM
 * streamer — and stops them, in reverse, before the app closes: the batch in hand is committed and
 * acknowledged. While the stream or its consumer is missing (not provisioned yet), audit answers
 * its RPCs, reports `jetstream` down with the coded reason, and looks again every few seconds.
 */
export class IngestLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private connection: NatsConnection | undefined;
  private pool: VerifierPool | undefined;
  private ingest: IngestService | undefined;
  private missing: AuditStreamError | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly config: AuditConfig,
    private readonly keys: KeyRegistry,
    private readonly chain: ChainRepository,
    private readonly checkpointer: Checkpointer,
    private readonly streamer: SiemStreamer,
    private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.keys.sync(this.config.trustedKeys, this.config.signingKey, new Date());
    const trusted = await this.keys.all();
    this.logger.info(
      { keys: trusted.map((key) => `${key.service}:${key.kid}`) },
      'signing key registry loaded',
    );
    this.connection = await connect({
      ...natsConnectionOptions(this.config.nats, 'audit'),
      name: 'heroagent-audit-ingest',
    });
    this.pool = await VerifierPool.create(this.config.ingest.verifyWorkers, trusted);
    this.ingest = new IngestService(
      this.pool,
      this.chain,
      this.checkpointer,
      this.config.ingest.batchSize,
      this.logger,
    );
    this.checkpointer.start();
    this.streamer.start();
    await this.startIngest();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.ingest?.stop();
    await this.streamer.stop();
    await this.checkpointer.stop();
    await this.pool?.close();
    await this.connection?.drain();
  }

  /** For health: the ingest's connection answers and the provisioned consumer is in use. */
  async ping(): Promise<void> {
    if (this.connection === undefined || this.connection.isClosed())
      throw new Error('not connected');
    await this.connection.flush();
    if (this.missing !== undefined) throw this.missing;
  }

  private async startIngest(): Promise<void> {
    if (this.stopped) return;
    try {
      const consumer = await openAuditConsumer(this.connection!);
      await this.ingest!.start(consumer);
      this.missing = undefined;
      const info = await consumer.info(true);
      this.logger.info(
        {
          stream: AUDIT_STREAM,
          consumer: AUDIT_CONSUMER,
          pending: info.num_pending,
          workers: this.pool!.size,
        },
        'audit ingest started',
      );
    } catch (error) {
      if (!(error instanceof AuditStreamError)) throw error;
      if (this.missing?.code !== error.code) {
        this.logger.error({ code: error.code }, `audit ingest waits: ${error.message}`);
      }
      this.missing = error;
      this.retry = setTimeout(() => {
        this.startIngest().catch((failure: unknown) =>
          this.logger.error({ err: failure }, 'audit ingest could not start'),
        );
      }, RETRY_MS);
      this.retry.unref();
    }
  }
}
