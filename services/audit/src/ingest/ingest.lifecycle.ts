import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { VerifierPool } from '@heroagent/audit-chain';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { natsConnectionOptions } from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import type { Checkpointer } from '../checkpoints/checkpointer.js';
import type { AuditConfig } from '../config.js';
import type { KeyRegistry } from '../keys/key-registry.js';
import type { SiemStreamer } from '../siem/siem.streamer.js';
import type { ChainRepository } from '../store/chain.repository.js';
import { IngestService } from './ingest.service.js';
import { AUDIT_CONSUMER, AUDIT_STREAM, ensureAuditStream } from './jetstream.js';

/**
 * Starts what runs beside the RPC handlers once the app is up — the key registry sync, the
 * JetStream stream and consumer, the verifier pool, the ingest loop and the checkpoint timer — and
 * stops them, in reverse, before the app closes: the batch in hand is committed and acknowledged.
 */
export class IngestLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private connection: NatsConnection | undefined;
  private pool: VerifierPool | undefined;
  private ingest: IngestService | undefined;

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
    const manager = await ensureAuditStream(this.connection, this.config.ingest);
    this.pool = await VerifierPool.create(this.config.ingest.verifyWorkers, trusted);
    this.ingest = new IngestService(
      this.connection,
      this.pool,
      this.chain,
      this.checkpointer,
      this.config.ingest.batchSize,
      this.logger,
    );
    await this.ingest.start();
    this.checkpointer.start();
    this.streamer.start();
    const info = await manager.consumers.info(AUDIT_STREAM, AUDIT_CONSUMER);
    this.logger.info(
      {
        stream: AUDIT_STREAM,
        consumer: AUDIT_CONSUMER,
        pending: info.num_pending,
        workers: this.pool.size,
      },
      'audit ingest started',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.ingest?.stop();
    await this.streamer.stop();
    await this.checkpointer.stop();
    await this.pool?.close();
    await this.connection?.drain();
  }

  /** For health: the ingest's connection answers. */
  async ping(): Promise<void> {
    if (this.connection === undefined || this.connection.isClosed())
      throw new Error('not connected');
    await this.connection.flush();
  }
}
