import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportEd25519PublicKey,
  exportX25519PublicKey,
  fromBase64Url,
  sealingKeyFromRaw,
  signingKeyFromSeed,
  toBase64Url,
} from '@heroagent/crypto';
import { createKeyFile } from '@heroagent/vault-proxy';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  type ProvisionedService,
  type TestDatabase,
} from '@heroagent/db/testing';
import { natsPassword, startNatsServer, type TestNatsServer } from '@heroagent/service/testing';

export const SERVICES = ['gateway', 'agent', 'vault-proxy', 'audit'] as const;
export type Service = (typeof SERVICES)[number];

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const SCHEMAS: Record<Service, string> = {
  gateway: 'gateway',
  agent: 'agent',
  'vault-proxy': 'vault_proxy',
  audit: 'audit',
};

/** A test's own platform infrastructure: a database with each service's roles, and a nats-server under deploy/nats. */
export interface PlatformFixture {
  readonly database: TestDatabase;
  readonly nats: TestNatsServer;
  /** The environment a service process or config parser gets, as the launcher would give it. */
  env(service: Service, extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

const key = () => randomBytes(32).toString('base64url');

export async function startPlatformFixture(): Promise<PlatformFixture> {
  const database = await createTestDatabase();
  const provisioned = {} as Record<Service, ProvisionedService>;
  for (const service of SERVICES)
    provisioned[service] = await database.provisionService(SCHEMAS[service]);
  const passwords = Object.fromEntries(
    SERVICES.map((service) => [service, natsPassword()]),
  ) as Record<Service, string>;
  const nats = await startNatsServer({
    config: await readFile(`${REPO_ROOT}/deploy/nats/heroagent.conf`, 'utf8'),
    env: Object.fromEntries(
      SERVICES.map((service) => [
        `HEROAGENT_NATS_${service.toUpperCase().replace('-', '_')}_PASSWORD`,
        passwords[service],
      ]),
    ),
    jetstream: true,
  });
  const keys = { signing: key(), sealing: key(), secrets: key() };
  const signing = signingKeyFromSeed(fromBase64Url(keys.signing)!);
  const sealing = sealingKeyFromRaw(fromBase64Url(keys.sealing)!);
  const keyDir = await mkdtemp(join(tmpdir(), 'platform-keys-'));
  const embeddedKeyFile = join(keyDir, 'vault-proxy-keys.json');
  await createKeyFile(embeddedKeyFile);
  return {
    database,
    nats,
    env(service, extra = {}) {
      return {
        HEROAGENT_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: provisioned[service].runtimeUrl,
        DATABASE_MIGRATION_URL: provisioned[service].ownerUrl,
        DATABASE_SCHEMA: SCHEMAS[service],
        NATS_URL: nats.url,
        NATS_USER: service,
        NATS_PASSWORD: passwords[service],
        NATS_REQUEST_TIMEOUT_MS: '2000',
        ...(service === 'agent' ? {} : { SERVICE_SIGNING_KEY: keys.signing }),
        ...(service === 'gateway' || service === 'vault-proxy'
          ? { SERVICE_SEALING_KEY: keys.sealing }
          : {}),
        ...(service === 'gateway'
          ? {
              HTTP_PORT: '0',
              VAULT_PROXY_SEALING_PUBLIC_KEY: toBase64Url(exportX25519PublicKey(sealing.publicKey)),
            }
          : {}),
        ...(service === 'audit'
          ? { AUDIT_SECRETS_KEY: keys.secrets, AUDIT_VERIFY_WORKERS: '1' }
          : {}),
        ...(service === 'vault-proxy'
          ? {
              GATEWAY_VERIFY_KEYS: JSON.stringify([
                {
                  kid: signing.kid,
                  publicKey: toBase64Url(exportEd25519PublicKey(signing.publicKey)),
                },
              ]),
              GATEWAY_SEALING_PUBLIC_KEY: toBase64Url(exportX25519PublicKey(sealing.publicKey)),
              EMBEDDED_KEY_FILE: embeddedKeyFile,
            }
          : {}),
        ...extra,
      };
    },
    async stop() {
      await nats.stop();
      await database.drop();
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}
