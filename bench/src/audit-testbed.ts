// A throw-away JetStream nats-server and Postgres database for the audit service, started in this
// process as its medium tests start it (services/audit/test/fixture.ts), without NATS accounts.
import { randomBytes, randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  auditConfigSchema,
  migrations as auditMigrations,
  provisionAuditStream,
  startAudit,
} from '@heroagent/audit';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import {
  exportEd25519PublicKey,
  generateSigningKey,
  toBase64Url,
  type SigningKey,
} from '@heroagent/crypto';
import { createDatabase, type Kysely } from '@heroagent/db';
import {
  createTestDatabase,
  type ProvisionedService,
  type TestDatabase,
} from '@heroagent/db/testing';
import type { RunningService } from '@heroagent/service';
import { startNatsServer, type TestNatsServer } from '@heroagent/service/testing';
import { createLogger } from '@heroagent/telemetry';
import { CommitSampler } from './audit-sampler.js';
import {
  auditBackendPids,
  countStoredEvents,
  readStoreSnapshot,
  type StoreSnapshot,
} from './audit-store.js';

/** Tenants the events are spread over, round robin. */
export const TENANTS = 10;
/** `AUDIT_CHECKPOINT_EVERY_EVENTS` the service runs with (its default). */
export const CHECKPOINT_EVERY = 1_000;
/** Publishes kept in flight when a backlog is loaded into the stream. */
const PUBLISH_IN_FLIGHT = 512;

/** An event ready for the wire: signed and serialized ahead, so neither is timed. */
export interface WireEvent {
  readonly subject: string;
  readonly body: string;
  readonly id: string;
}

export class AuditTestbed {
  private constructor(
    private readonly nats: TestNatsServer,
    private readonly database: TestDatabase,
    private readonly service: ProvisionedService,
    private readonly producer: SigningKey,
    private readonly tenants: readonly string[],
    private readonly publisher: NatsConnection,
    /** The publisher's JetStream client. */
    readonly js: JetStreamClient,
    /** Superuser access, to count behind the service's back. */
    private readonly admin: Kysely<unknown>,
    /** `AUDIT_INGEST_BATCH` the service runs with. */
    readonly ingestBatch: number,
  ) {}

  static async open(options: { ingestBatch: number }): Promise<AuditTestbed> {
    const nats = await startNatsServer({ jetstream: true });
    let database: TestDatabase | undefined;
    try {
      database = await createTestDatabase();
      const service = await database.provisionService('audit');
      await service.migrate(auditMigrations);
      const publisher = await connect({ servers: nats.url, name: 'heroagent-bench-publisher' });
      // The install step: this NATS has no users, so any connection may provision.
      await provisionAuditStream(publisher);
      const admin = createDatabase<unknown>({
        connectionString: database.adminUrl,
        applicationName: 'heroagent-bench',
        maxConnections: 1,
      });
      const tenants = Array.from({ length: TENANTS }, () => randomUUID());
      return new AuditTestbed(
        nats,
        database,
        service,
        generateSigningKey(),
        tenants,
        publisher,
        jetstream(publisher),
        admin,
        options.ingestBatch,
      );
    } catch (error) {
      await database?.drop();
      await nats.stop();
      throw error;
    }
  }

  /** Signs `count` events from the gateway's key, round robin over the tenants. */
  sign(count: number): WireEvent[] {
    return Array.from({ length: count }, (_, index) => {
      const tenantId = this.tenants[index % this.tenants.length]!;
      const envelope = signedTestEvent(this.producer, tenantId);
      return {
        subject: `audit.events.${tenantId}`,
        body: JSON.stringify(envelope),
        id: envelope.event.id,
      };
    });
  }

  /** Starts the audit service in this process with `workers` verification threads (0: inline). */
  start(workers: number): Promise<RunningService> {
    const config = auditConfigSchema.parse({
      HEROAGENT_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.service.runtimeUrl,
      DATABASE_SCHEMA: 'audit',
      NATS_URL: this.nats.url,
      SERVICE_SIGNING_KEY: randomBytes(32).toString('base64url'),
      AUDIT_SECRETS_KEY: randomBytes(32).toString('base64url'),
      AUDIT_TRUSTED_KEYS: JSON.stringify([
        {
          kid: this.producer.kid,
          service: 'gateway',
          publicKey: toBase64Url(exportEd25519PublicKey(this.producer.publicKey)),
          notBefore: '2020-01-01T00:00:00Z',
        },
      ]),
      AUDIT_INGEST_BATCH: String(this.ingestBatch),
      AUDIT_CHECKPOINT_EVERY_EVENTS: String(CHECKPOINT_EVERY),
      AUDIT_VERIFY_WORKERS: String(workers),
    });
    return startAudit(config, createLogger({ service: 'audit', level: 'warn' }));
  }

  /** Publishes every event to the stream, many in flight, and returns once all are stored there. */
  async publishAll(events: readonly WireEvent[]): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < events.length) {
        const event = events[next++]!;
        const ack = await this.js.publish(event.subject, event.body, { msgID: event.id });
        if (ack.duplicate) throw new Error(`event ${event.id} was already in the stream`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUBLISH_IN_FLIGHT, events.length) }, lane));
  }

  /** Committed events and audit's connection states, read now. */
  snapshot(): Promise<StoreSnapshot> {
    return readStoreSnapshot(this.admin);
  }

  /** Rows in `audit.events`, counted whole. */
  storedEvents(): Promise<number> {
    return countStoredEvents(this.admin);
  }

  /** Process ids of the running audit service's Postgres backends. */
  backendPids(): Promise<number[]> {
    return auditBackendPids(this.admin);
  }

  /** Polls the store from a worker thread every `intervalMs`. */
  sampler(intervalMs: number): CommitSampler {
    return CommitSampler.start(this.database.adminUrl, intervalMs);
  }

  async close(): Promise<void> {
    try {
      await this.publisher.close();
      await this.admin.destroy();
    } finally {
      await this.nats.stop();
      await this.database.drop();
    }
  }
}
