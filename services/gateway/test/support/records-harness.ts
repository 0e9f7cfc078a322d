import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  auditConfigSchema,
  migrations as auditMigrations,
  provisionAuditStream,
  startAudit,
} from '@heroagent/audit';
import { AUDIT_EVENT_PURPOSE, type AuditEvent } from '@heroagent/contracts';
import {
  ed25519Fingerprint,
  exportEd25519PublicKey,
  signJson,
  signingKeyFromSeed,
  toBase64Url,
} from '@heroagent/crypto';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { startGatewayFixture, type GatewayFixture } from './fixture.js';

/**
 * The gateway fixture with the real audit service in place of its stand-in stream, as the
 * platform runs it: audit trusts the gateway's signing key, ingests what the gateway's outbox
 * publishes, and answers the gateway's record queries. pg_trgm is installed first, as a deploy
 * step would, so audit's search has its trigram index.
 */
export interface RecordsHarness {
  readonly fixture: GatewayFixture;
  /** The audit key's fingerprint: what `pnpm audit:verify --trust` pins. */
  readonly auditKey: string;
  /** Every line audit logged. */
  readonly auditLogs: string[];
  /** Signs events with the gateway's key and publishes them to audit, as the outbox relay does. */
  publish(events: readonly AuditEvent[]): Promise<void>;
  /** Waits until audit has stored these events. */
  waitForStored(tenantId: string, eventIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export async function startRecordsHarness(): Promise<RecordsHarness> {
  const fixture = await startGatewayFixture();
  // Audit's own stream takes the subjects of the fixture's stand-in, provisioned as an install
  // step would (this NATS has no users: the same function, any connection).
  await fixture.auditStream.remove();
  const provisioner = await connect({ servers: fixture.nats.url });
  try {
    await provisionAuditStream(provisioner);
  } finally {
    await provisioner.close();
  }
  const admin: Kysely<unknown> = createDatabase({
    connectionString: fixture.database.adminUrl,
    applicationName: 'records-harness',
    maxConnections: 1,
  });
  await sql`create extension if not exists pg_trgm`.execute(admin);
  const service = await fixture.database.provisionService('audit');
  await service.migrate(auditMigrations);
  const auditSeed = randomBytes(32);
  const auditLogs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      auditLogs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const gatewayKey = fixture.gatewaySigning;
  const audit: RunningService = await startAudit(
    auditConfigSchema.parse({
      HEROAGENT_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: service.runtimeUrl,
      DATABASE_SCHEMA: 'audit',
      NATS_URL: fixture.nats.url,
      SERVICE_SIGNING_KEY: auditSeed.toString('base64url'),
      AUDIT_SECRETS_KEY: randomBytes(32).toString('base64url'),
      AUDIT_TRUSTED_KEYS: JSON.stringify([
        {
          kid: gatewayKey.kid,
          service: 'gateway',
          publicKey: toBase64Url(exportEd25519PublicKey(gatewayKey.publicKey)),
          notBefore: '2000-01-01T00:00:00.000Z',
        },
      ]),
      AUDIT_VERIFY_WORKERS: '1',
      AUDIT_CHECKPOINT_EVERY_EVENTS: '10',
      AUDIT_CHECKPOINT_INTERVAL_S: '1',
      AUDIT_SIEM_POLL_MS: '200',
      AUDIT_SIEM_TIMEOUT_MS: '2000',
      // The OTLP receiver double listens on loopback.
      AUDIT_SIEM_ALLOW_PRIVATE_NETWORKS: 'true',
    }),
    createLogger({ service: 'audit', level: 'info', destination }),
  );
  const publisher: NatsConnection = await connect({ servers: fixture.nats.url });
  const js = jetstream(publisher);
  return {
    fixture,
    auditKey: ed25519Fingerprint(signingKeyFromSeed(auditSeed).publicKey),
    auditLogs,
    async publish(events) {
      for (const event of events) {
        const signature = signJson(event, AUDIT_EVENT_PURPOSE, gatewayKey);
        await js.publish(`audit.events.${event.tenantId}`, JSON.stringify({ event, signature }), {
          msgID: event.id,
        });
      }
    },
    async waitForStored(tenantId, eventIds) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await sql<{ stored: number }>`
          select count(*)::int as stored from audit.events
          where tenant_id = ${tenantId} and event_id = any(${[...eventIds]}::uuid[])`.execute(
          admin,
        );
        if (rows[0]!.stored === eventIds.length) return;
        if (Date.now() > deadline) {
          throw new Error(`audit stored ${rows[0]!.stored} of ${eventIds.length} events`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async close() {
      await publisher.close();
      await audit.close();
      await admin.destroy();
      await fixture.close();
    },
  };
}
