import { randomBytes } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { exportAuditBundle, type SignedAuditEvent, type Viewer } from '@heroagent/contracts';
import {
  exportEd25519PublicKey,
  generateSigningKey,
  signingKeyFromSeed,
  toBase64Url,
  type SigningKey,
} from '@heroagent/crypto';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import {
  createTestDatabase,
  type ProvisionedService,
  type TestDatabase,
} from '@heroagent/db/testing';
import { ContractClient } from '@heroagent/service';
import { startDeployNatsServer, type DeployNatsServer } from '@heroagent/service/testing';
import {
  DEFAULT_AUDIT_STREAM,
  provisionAuditStream,
  type AuditStreamOptions,
} from '../src/provisioning/audit-stream.js';
import { migrations } from '../migrations/index.js';

/**
 * Real Postgres and a JetStream nats-server under deploy/nats, as the audit service meets them:
 * the stream provisioned by the provisioner (unless told not to), events published by the
 * gateway's outbox relay user, audit's RPCs called by the gateway's.
 */
export interface AuditFixture {
  readonly nats: DeployNatsServer;
  readonly database: TestDatabase;
  readonly service: ProvisionedService;
  readonly gatewayKey: SigningKey;
  readonly auditKey: SigningKey;
  /** The outbox relay's connection (user gateway-relay): it publishes audit events. */
  readonly relay: NatsConnection;
  /** JetStream publishing as the relay. */
  readonly js: JetStreamClient;
  /** Creates or updates the stream and its consumer, as the provisioner. */
  provision(options?: Partial<AuditStreamOptions>): Promise<void>;
  readonly client: ContractClient;
  /** Superuser access to the audit schema, for reading and tampering behind the service's back. */
  readonly admin: Kysely<unknown>;
  /** The audit service's environment (as `pnpm start` or a deploy would set it). */
  env(extra?: Record<string, string>): Record<string, string>;
  publish(envelope: SignedAuditEvent | string, subjectTenant?: string): Promise<void>;
  /** Every page of a tenant's JSONL export, as an auditor downloads it. */
  exportBundle(tenantId: string): Promise<string[]>;
  storedCount(tenantId?: string): Promise<number>;
  waitForCount(count: number, tenantId?: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A viewer of a tenant with a role. */
export const viewer = (
  tenantId: string,
  role: Viewer['role'] = 'auditor',
  userId = '00000000-0000-4000-8000-000000000001',
): Viewer => ({
  tenantId,
  userId,
  role,
});

export async function startAuditFixture(
  options: { provision?: boolean; stream?: Partial<AuditStreamOptions> } = {},
): Promise<AuditFixture> {
  const nats = await startDeployNatsServer();
  const database = await createTestDatabase();
  const service = await database.provisionService('audit');
  await service.migrate(migrations);
  const gatewayKey = generateSigningKey();
  const auditSeed = randomBytes(32);
  const secretsKey = randomBytes(32).toString('base64url');
  const relay = await nats.connectAs('gateway-relay');
  const js = jetstream(relay);
  const client = ContractClient.create(
    nats.config('gateway', { NATS_REQUEST_TIMEOUT_MS: '20000' }),
    'gateway',
  );
  const admin = createDatabase<unknown>({
    connectionString: database.adminUrl,
    schema: 'audit',
    applicationName: 'audit-test-admin',
  });
  const provision = async (stream: Partial<AuditStreamOptions> = {}) => {
    const provisioner = await nats.connectAs('provisioner');
    try {
      await provisionAuditStream(provisioner, { ...DEFAULT_AUDIT_STREAM, ...stream });
    } finally {
      await provisioner.close();
    }
  };
  if (options.provision !== false) await provision(options.stream);
  const fixture: AuditFixture = {
    nats,
    database,
    service,
    gatewayKey,
    auditKey: signingKeyFromSeed(auditSeed),
    relay,
    js,
    provision,
    client,
    admin,
    env(extra = {}) {
      return {
        HEROAGENT_ENV: 'test',
        LOG_LEVEL: 'warn',
        DATABASE_URL: service.runtimeUrl,
        DATABASE_SCHEMA: 'audit',
        NATS_URL: nats.url,
        NATS_USER: 'audit',
        NATS_PASSWORD: nats.passwords.audit,
        SERVICE_SIGNING_KEY: auditSeed.toString('base64url'),
        AUDIT_SECRETS_KEY: secretsKey,
        AUDIT_TRUSTED_KEYS: JSON.stringify([
          {
            kid: gatewayKey.kid,
            service: 'gateway',
            publicKey: toBase64Url(exportEd25519PublicKey(gatewayKey.publicKey)),
            notBefore: '2020-01-01T00:00:00Z',
          },
        ]),
        AUDIT_CHECKPOINT_EVERY_EVENTS: '10',
        AUDIT_CHECKPOINT_INTERVAL_S: '1',
        ...extra,
      };
    },
    async publish(envelope, subjectTenant) {
      const body = typeof envelope === 'string' ? envelope : JSON.stringify(envelope);
      const tenant =
        subjectTenant ??
        (typeof envelope === 'string'
          ? '00000000-0000-4000-8000-000000000000'
          : envelope.event.tenantId);
      await js.publish(
        `audit.events.${tenant}`,
        body,
        typeof envelope === 'string' ? {} : { msgID: envelope.event.id },
      );
    },
    async exportBundle(tenantId) {
      const lines: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.request(exportAuditBundle, {
          viewer: viewer(tenantId),
          format: 'jsonl',
          ...(cursor ? { cursor } : {}),
        });
        lines.push(...page.lines);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return lines;
    },
    async storedCount(tenantId) {
      const query =
        tenantId === undefined
          ? sql<{ n: number }>`select count(*)::int as n from audit.events`
          : sql<{
              n: number;
            }>`select count(*)::int as n from audit.events where tenant_id = ${tenantId}`;
      return (await query.execute(admin)).rows[0]!.n;
    },
    async waitForCount(count, tenantId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = -1;
      while (Date.now() < deadline) {
        last = await fixture.storedCount(tenantId);
        if (last >= count) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`only ${last} of ${count} events stored within ${timeoutMs} ms`);
    },
    async close() {
      await client.close();
      await relay.close();
      await admin.destroy();
      await nats.stop();
      await database.drop();
    },
  };
  return fixture;
}
