import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
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
import {
  ContractClient,
  natsConnectionOptions,
  natsEnvSchema,
  parseConfig,
} from '@heroagent/service';
import { natsPassword, startNatsServer, type TestNatsServer } from '@heroagent/service/testing';
import { migrations } from '../migrations/index.js';

const CONFIG = fileURLToPath(new URL('../../../deploy/nats/heroagent.conf', import.meta.url));
const SERVICES = ['gateway', 'agent', 'vault-proxy', 'audit'] as const;

/** Real Postgres and a JetStream nats-server under deploy/nats, as the audit service meets them. */
export interface AuditFixture {
  readonly nats: TestNatsServer;
  readonly database: TestDatabase;
  readonly service: ProvisionedService;
  readonly gatewayKey: SigningKey;
  readonly auditKey: SigningKey;
  /** The gateway's connection: it publishes events and calls audit's RPCs. */
  readonly gateway: NatsConnection;
  readonly js: JetStreamClient;
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

export async function startAuditFixture(): Promise<AuditFixture> {
  const passwords = Object.fromEntries(SERVICES.map((service) => [service, natsPassword()]));
  const nats = await startNatsServer({
    config: await readFile(CONFIG, 'utf8'),
    env: Object.fromEntries(
      SERVICES.map((service) => [
        `HEROAGENT_NATS_${service.toUpperCase().replace('-', '_')}_PASSWORD`,
        passwords[service]!,
      ]),
    ),
    jetstream: true,
  });
  const database = await createTestDatabase();
  const service = await database.provisionService('audit');
  await service.migrate(migrations);
  const gatewayKey = generateSigningKey();
  const auditSeed = randomBytes(32);
  const secretsKey = randomBytes(32).toString('base64url');
  const natsFor = (who: (typeof SERVICES)[number]) =>
    parseConfig(natsEnvSchema, {
      NATS_URL: nats.url,
      NATS_USER: who,
      NATS_PASSWORD: passwords[who],
      NATS_REQUEST_TIMEOUT_MS: '20000',
    });
  const gateway = await connect(natsConnectionOptions(natsFor('gateway'), 'gateway'));
  const js = jetstream(gateway);
  const client = ContractClient.create(natsFor('gateway'), 'gateway');
  const admin = createDatabase<unknown>({
    connectionString: database.adminUrl,
    schema: 'audit',
    applicationName: 'audit-test-admin',
  });
  const fixture: AuditFixture = {
    nats,
    database,
    service,
    gatewayKey,
    auditKey: signingKeyFromSeed(auditSeed),
    gateway,
    js,
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
        NATS_PASSWORD: passwords.audit!,
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
      await gateway.close();
      await admin.destroy();
      await nats.stop();
      await database.drop();
    },
  };
  return fixture;
}
