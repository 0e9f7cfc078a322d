import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportEd25519PublicKey,
  exportX25519PublicKey,
  fromBase64Url,
  sealingKeyFromRaw,
  signingKeyFromSeed,
  toBase64Url,
  type SealingKey,
  type SigningKey,
} from '@heroagent/crypto';
import { migrations as agentMigrations } from '@heroagent/agent';
import {
  DEFAULT_AUDIT_STREAM,
  migrations as auditMigrations,
  provisionAuditStream,
} from '@heroagent/audit';
import { GATEWAY_JOBS, migrations as gatewayMigrations } from '@heroagent/gateway';
import { createKeyFile, migrations as vaultProxyMigrations } from '@heroagent/vault-proxy';
import type { MigrationSet } from '@heroagent/db';
import {
  jobRoleVariable,
  migrateConfigSchema,
  migrateService,
  parseConfig,
} from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  type ProvisionedService,
  type TestDatabase,
} from '@heroagent/db/testing';
import type { OidcProviderDouble } from '@heroagent/doubles';
import { startDeployNatsServer, type DeployNatsServer } from '@heroagent/service/testing';

export const SERVICES = ['gateway', 'agent', 'vault-proxy', 'audit'] as const;
export type Service = (typeof SERVICES)[number];

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const SCHEMAS: Record<Service, string> = {
  gateway: 'gateway',
  agent: 'agent',
  'vault-proxy': 'vault_proxy',
  audit: 'audit',
};
/** Each service's cross-tenant jobs: a Postgres role each. */
export const JOBS: Record<Service, readonly string[]> = {
  gateway: GATEWAY_JOBS,
  agent: [],
  'vault-proxy': [],
  audit: [],
};
const MIGRATIONS: Record<Service, MigrationSet> = {
  gateway: gatewayMigrations,
  agent: agentMigrations,
  'vault-proxy': vaultProxyMigrations,
  audit: auditMigrations,
};

/**
 * A test's own platform infrastructure: a database with each service's roles, and a nats-server
 * under deploy/nats with the audit stream provisioned by its provisioning identity, as
 * `pnpm start` and a deploy do before audit starts.
 */
export interface PlatformFixture {
  readonly database: TestDatabase;
  readonly nats: DeployNatsServer;
  /** The gateway's signing key (vault-proxy and audit trust it) and sealing key. */
  readonly keys: {
    gatewaySigning: SigningKey;
    gatewaySealing: SealingKey;
  };
  /** The environment a service process or config parser gets, as the launcher would give it. */
  env(service: Service, extra?: Record<string, string>): Record<string, string>;
  /** The environment of a service's migrate step (the schema owner's URL, the role names). */
  migrateEnv(service: Service): Record<string, string>;
  stop(): Promise<void>;
}

const key = () => randomBytes(32).toString('base64url');

export async function startPlatformFixture(
  options: {
    /** The NATS the platform runs on: one deploy/nats server unless told (a cluster, say). */
    nats?: () => Promise<DeployNatsServer>;
    /** How many copies of the audit stream JetStream keeps (1 unless told; 3 on a cluster). */
    auditStreamReplicas?: number;
  } = {},
): Promise<PlatformFixture> {
  const database = await createTestDatabase();
  const provisioned = {} as Record<Service, ProvisionedService>;
  const migrateEnv = (service: Service): Record<string, string> => ({
    LOG_LEVEL: 'silent',
    DATABASE_MIGRATION_URL: provisioned[service].ownerUrl,
    DATABASE_SCHEMA: SCHEMAS[service],
    DATABASE_RUNTIME_ROLE: provisioned[service].roles.runtime,
    ...Object.fromEntries(
      JOBS[service].map((job) => [jobRoleVariable(job), provisioned[service].roles[job]!]),
    ),
  });
  // As the launcher does: provision, then each service's migrate step, before any service starts.
  for (const service of SERVICES) {
    provisioned[service] = await database.provisionService(SCHEMAS[service], {
      jobs: JOBS[service],
    });
    await migrateService({
      service,
      config: parseConfig(
        migrateConfigSchema({ schema: SCHEMAS[service], jobs: JOBS[service] }),
        migrateEnv(service),
      ),
      migrations: MIGRATIONS[service],
      logger: createLogger({ service: `${service}-migrate`, level: 'silent' }),
    });
  }
  const nats = await (options.nats ?? startDeployNatsServer)();
  const provisioner = await nats.connectAs('provisioner');
  try {
    await provisionAuditStream(provisioner, {
      ...DEFAULT_AUDIT_STREAM,
      replicas: options.auditStreamReplicas ?? DEFAULT_AUDIT_STREAM.replicas,
    });
  } finally {
    await provisioner.close();
  }
  // Each service its own keys, as the launcher generates them.
  const seeds = Object.fromEntries(
    SERVICES.map((service) => [service, { signing: key(), sealing: key() }]),
  ) as Record<Service, { signing: string; sealing: string }>;
  const secretsKey = key();
  const gatewaySigning = signingKeyFromSeed(fromBase64Url(seeds.gateway.signing)!);
  const gatewaySealing = sealingKeyFromRaw(fromBase64Url(seeds.gateway.sealing)!);
  const publicKey = (signingKey: SigningKey) =>
    toBase64Url(exportEd25519PublicKey(signingKey.publicKey));
  const keyDir = await mkdtemp(join(tmpdir(), 'platform-keys-'));
  const embeddedKeyFile = join(keyDir, 'vault-proxy-keys.json');
  await createKeyFile(embeddedKeyFile);
  return {
    database,
    nats,
    keys: { gatewaySigning, gatewaySealing },
    migrateEnv,
    env(service, extra = {}) {
      return {
        HEROAGENT_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: provisioned[service].runtimeUrl,
        DATABASE_SCHEMA: SCHEMAS[service],
        NATS_URL: nats.url,
        NATS_USER: service,
        NATS_PASSWORD: nats.passwords[service],
        NATS_REQUEST_TIMEOUT_MS: '2000',
        ...(service === 'agent' ? {} : { SERVICE_SIGNING_KEY: seeds[service].signing }),
        ...(service === 'gateway' ? { SERVICE_SEALING_KEY: seeds[service].sealing } : {}),
        ...(service === 'gateway'
          ? {
              NATS_RELAY_USER: 'gateway-relay',
              NATS_RELAY_PASSWORD: nats.passwords['gateway-relay'],
              DATABASE_RELAY_URL: provisioned.gateway.jobUrls.relay!,
              DATABASE_SWEEPER_URL: provisioned.gateway.jobUrls.sweeper!,
              HTTP_PORT: '0',
            }
          : {}),
        ...(service === 'audit'
          ? {
              AUDIT_SECRETS_KEY: secretsKey,
              AUDIT_VERIFY_WORKERS: '1',
              AUDIT_TRUSTED_KEYS: JSON.stringify([
                {
                  kid: gatewaySigning.kid,
                  service: 'gateway',
                  publicKey: publicKey(gatewaySigning),
                  notBefore: '2000-01-01T00:00:00.000Z',
                },
              ]),
            }
          : {}),
        ...(service === 'vault-proxy'
          ? {
              GATEWAY_VERIFY_KEYS: JSON.stringify([
                { kid: gatewaySigning.kid, publicKey: publicKey(gatewaySigning) },
              ]),
              GATEWAY_SEALING_PUBLIC_KEY: toBase64Url(
                exportX25519PublicKey(gatewaySealing.publicKey),
              ),
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

/**
 * What points vault-proxy and the gateway (listening at `origin`) at the OpenID Connect double
 * standing in for Google: the gateway redirects there with the client id; vault-proxy, holding
 * the client secret, exchanges codes, refreshes and revokes there.
 */
export function googleDoubleEnv(
  provider: OidcProviderDouble,
  origin: string,
): { 'vault-proxy': Record<string, string>; gateway: Record<string, string> } {
  return {
    'vault-proxy': {
      OAUTH_GOOGLE_CLIENT_ID: provider.clientId,
      OAUTH_GOOGLE_CLIENT_SECRET: provider.clientSecret,
      OAUTH_GOOGLE_ISSUER: provider.issuer,
      OAUTH_GOOGLE_TOKEN_URL: provider.tokenUrl,
      OAUTH_GOOGLE_REVOKE_URL: provider.revocationUrl,
    },
    gateway: {
      OAUTH_GOOGLE_CLIENT_ID: provider.clientId,
      HTTP_PORT: new URL(origin).port,
      PUBLIC_URL: origin,
      OAUTH_GOOGLE_AUTHORIZE_URL: provider.authorizeUrl,
    },
  };
}
