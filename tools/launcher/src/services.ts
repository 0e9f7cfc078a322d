import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  exportEd25519PublicKey,
  exportX25519PublicKey,
  fromBase64Url,
  sealingKeyFromRaw,
  signingKeyFromSeed,
  toBase64Url,
} from '@heroagent/crypto';
import { createDatabase, provisionServiceDatabase, withCredentials } from '@heroagent/db';
import { REPO_ROOT, type LauncherConfig } from './config.js';
import type { DevTls } from './dev-ca.js';
import type { PlatformNats } from './nats.js';
import { startProcess, type ManagedProcess } from './processes.js';
import type { DevSecrets, Service } from './secrets.js';

const SCHEMAS: Record<Service, string> = {
  gateway: 'gateway',
  agent: 'agent',
  'vault-proxy': 'vault_proxy',
  audit: 'audit',
};

/**
 * Each service's cross-tenant jobs, each a Postgres login role of its own (the gateway's
 * GATEWAY_JOBS: its migrate step needs a `DATABASE_<JOB>_ROLE` for each, the service a URL).
 */
const JOBS: Record<Service, readonly ('relay' | 'sweeper')[]> = {
  gateway: ['relay', 'sweeper'],
  agent: [],
  'vault-proxy': [],
  audit: [],
};

/** TLS on the platform's hops, as the launcher set it up. */
export interface PlatformTls {
  /** The CA that verifies Postgres (DATABASE_TLS_CA_FILE of every service and migrate step). */
  readonly databaseCaFile: string | undefined;
  /** The gateway's HTTPS certificate and key (HTTP_TLS_CERT_FILE, HTTP_TLS_KEY_FILE). */
  readonly gateway: DevTls | undefined;
}

/**
 * One service's Postgres access: the owner's URL (for its migrate step only), the runtime role's
 * (the service's), and each job's role and URL.
 */
export interface ServiceDatabase {
  readonly schema: string;
  readonly ownerUrl: string;
  readonly runtimeRole: string;
  readonly runtimeUrl: string;
  readonly jobs: ReadonlyArray<{
    readonly job: string;
    readonly role: string;
    readonly url: string;
  }>;
}

/** Creates each service's schema, owner role, runtime role and job roles (idempotent). */
export async function provisionDatabases(
  adminUrl: string,
  tlsCaFile: string | undefined,
  secrets: DevSecrets,
  rolePrefix: string,
): Promise<Record<Service, ServiceDatabase>> {
  const admin = createDatabase<unknown>({
    connectionString: adminUrl,
    applicationName: 'heroagent-launcher',
    maxConnections: 1,
    ...(tlsCaFile === undefined ? {} : { tls: { ca: await readFile(tlsCaFile) } }),
  });
  try {
    const entries: Array<[Service, ServiceDatabase]> = [];
    for (const service of Object.keys(SCHEMAS) as Service[]) {
      const schema = SCHEMAS[service];
      const plan = {
        schema,
        ownerRole: `${rolePrefix}_${schema}_owner`,
        ownerPassword: secrets.postgresOwners[service],
        runtimeRole: `${rolePrefix}_${schema}`,
        runtimePassword: secrets.postgresRuntimes[service],
        jobRoles: JOBS[service].map((job) => ({
          job,
          role: `${rolePrefix}_${schema}_${job}`,
          password: jobPassword(secrets, service, job),
        })),
      };
      await provisionServiceDatabase(admin, plan);
      entries.push([
        service,
        {
          schema,
          ownerUrl: withCredentials(adminUrl, plan.ownerRole, plan.ownerPassword),
          runtimeRole: plan.runtimeRole,
          runtimeUrl: withCredentials(adminUrl, plan.runtimeRole, plan.runtimePassword),
          jobs: plan.jobRoles.map((job) => ({
            job: job.job,
            role: job.role,
            url: withCredentials(adminUrl, job.role, job.password),
          })),
        },
      ]);
    }
    return Object.fromEntries(entries) as Record<Service, ServiceDatabase>;
  } finally {
    await admin.destroy();
  }
}

function jobPassword(secrets: DevSecrets, service: Service, job: 'relay' | 'sweeper'): string {
  // Only the gateway has jobs; the secrets file gets their passwords on load when it lacks them.
  if (service !== 'gateway' || secrets.postgresJobs === undefined) {
    throw new Error(`no password for ${service}'s ${job} role in the development secrets`);
  }
  return secrets.postgresJobs.gateway[job];
}

/**
 * The environment of a service's migrate step: the schema owner's URL (no other process gets
 * it) and the names of the roles its migrations grant to.
 */
export function migrateEnvironment(
  config: LauncherConfig,
  database: ServiceDatabase,
  tls: PlatformTls,
): Record<string, string> {
  return {
    ...config.inheritedEnv,
    ...(tls.databaseCaFile === undefined ? {} : { DATABASE_TLS_CA_FILE: tls.databaseCaFile }),
    HEROAGENT_ENV: 'development',
    LOG_LEVEL: config.logLevel,
    DATABASE_MIGRATION_URL: database.ownerUrl,
    DATABASE_SCHEMA: database.schema,
    DATABASE_RUNTIME_ROLE: database.runtimeRole,
    ...Object.fromEntries(
      database.jobs.map((job) => [`DATABASE_${job.job.toUpperCase()}_ROLE`, job.role]),
    ),
  };
}

/** Runs a service's migrate step from its build, to its end; throws if it fails. */
export async function runMigrateStep(
  service: Service,
  env: Record<string, string>,
  home: string,
  print: (line: string) => void,
): Promise<void> {
  const logDir = join(home, 'logs');
  await mkdir(logDir, { recursive: true });
  const step = startProcess(
    `${service} migrate`,
    process.execPath,
    [join(REPO_ROOT, 'services', service, 'dist', 'src', 'migrate.js')],
    {
      env,
      cwd: join(REPO_ROOT, 'services', service),
      logFile: join(logDir, `${service}-migrate.log`),
      onLine: (line) => print(formatLogLine(`${service}`, line)),
    },
  );
  const code = await step.exited;
  if (code !== 0) {
    throw new Error(
      `the migrate step of ${service} failed (exit ${code ?? 'signal'}; ${join(logDir, `${service}-migrate.log`)})`,
    );
  }
}

/** The environment a service process gets: its own database role, NATS user and keys, nothing else. */
export function serviceEnvironment(
  service: Service,
  config: LauncherConfig,
  database: ServiceDatabase,
  nats: PlatformNats,
  secrets: DevSecrets,
  tls: PlatformTls,
): Record<string, string> {
  const env: Record<string, string> = { ...config.inheritedEnv };
  const credentials = nats.credentials(service);
  Object.assign(env, {
    HEROAGENT_ENV: 'development',
    LOG_LEVEL: config.logLevel,
    DATABASE_URL: database.runtimeUrl,
    DATABASE_SCHEMA: database.schema,
    ...Object.fromEntries(
      database.jobs.map((job) => [`DATABASE_${job.job.toUpperCase()}_URL`, job.url]),
    ),
    ...(tls.databaseCaFile === undefined ? {} : { DATABASE_TLS_CA_FILE: tls.databaseCaFile }),
    NATS_URL: nats.url,
    ...nats.tlsEnv,
    ...(credentials.user === undefined ? {} : { NATS_USER: credentials.user }),
    ...(credentials.password === undefined ? {} : { NATS_PASSWORD: credentials.password }),
  });
  if (service === 'gateway') {
    const relay = nats.credentials('gateway-relay');
    Object.assign(env, {
      // The audit outbox relay's own NATS user (none on an external NATS without users).
      ...(relay.user === undefined ? {} : { NATS_RELAY_USER: relay.user }),
      ...(relay.password === undefined ? {} : { NATS_RELAY_PASSWORD: relay.password }),
      HTTP_HOST: config.httpHost,
      HTTP_PORT: String(config.httpPort),
      ...(tls.gateway === undefined
        ? {}
        : {
            HTTP_TLS_CERT_FILE: tls.gateway.serverCertFile,
            HTTP_TLS_KEY_FILE: tls.gateway.serverKeyFile,
          }),
      SERVICE_SIGNING_KEY: secrets.keys.gateway.signing,
      SERVICE_SEALING_KEY: secrets.keys.gateway.sealing,
      // The console `pnpm build` made, served at the gateway's `/`.
      ...(existsSync(join(REPO_ROOT, 'apps', 'console', 'dist', 'index.html'))
        ? { CONSOLE_DIR: join(REPO_ROOT, 'apps', 'console', 'dist') }
        : {}),
      ...config.gatewayEnv,
    });
  } else if (service === 'vault-proxy') {
    const gatewaySigning = signingKeyFromSeed(fromBase64Url(secrets.keys.gateway.signing)!);
    const gatewaySealing = sealingKeyFromRaw(fromBase64Url(secrets.keys.gateway.sealing)!);
    Object.assign(env, {
      SERVICE_SIGNING_KEY: secrets.keys['vault-proxy'].signing,
      GATEWAY_VERIFY_KEYS: JSON.stringify([
        {
          kid: gatewaySigning.kid,
          publicKey: toBase64Url(exportEd25519PublicKey(gatewaySigning.publicKey)),
        },
      ]),
      GATEWAY_SEALING_PUBLIC_KEY: toBase64Url(exportX25519PublicKey(gatewaySealing.publicKey)),
      // No Vault on a developer machine unless VAULT_ADDR is given: the embedded store, which says so.
      EMBEDDED_KEY_FILE: join(config.home, 'vault-proxy-keys.json'),
      ...config.vaultProxyEnv,
    });
  } else if (service === 'agent') {
    Object.assign(env, config.agentEnv);
  } else if (service === 'audit') {
    Object.assign(env, {
      SERVICE_SIGNING_KEY: secrets.keys.audit.signing,
      AUDIT_SECRETS_KEY: secrets.keys.audit.secrets,
      AUDIT_TRUSTED_KEYS: JSON.stringify(trustedProducerKeys(secrets)),
      // On one developer machine a local OpenTelemetry Collector is the usual SIEM stand-in.
      AUDIT_SIEM_ALLOW_PRIVATE_NETWORKS: 'true',
    });
  }
  return env;
}

/** The services whose signed events audit accepts: the gateway's and vault-proxy's keys. */
function trustedProducerKeys(secrets: DevSecrets) {
  return (['gateway', 'vault-proxy'] as const).map((service) => {
    const key = signingKeyFromSeed(fromBase64Url(secrets.keys[service].signing)!);
    return {
      kid: key.kid,
      service,
      publicKey: toBase64Url(exportEd25519PublicKey(key.publicKey)),
      notBefore: '2000-01-01T00:00:00.000Z',
    };
  });
}

/** Starts one service from its build, printing its log lines in short form. */
export async function startServiceProcess(
  service: Service,
  env: Record<string, string>,
  home: string,
  print: (line: string) => void,
): Promise<ManagedProcess> {
  const logDir = join(home, 'logs');
  await mkdir(logDir, { recursive: true });
  const main = join(REPO_ROOT, 'services', service, 'dist', 'src', 'main.js');
  return startProcess(service, process.execPath, [main], {
    env,
    cwd: join(REPO_ROOT, 'services', service),
    logFile: join(logDir, `${service}.log`),
    onLine: (line) => print(formatLogLine(service, line)),
  });
}

/** `service  level  message` from a JSON log line; other lines (a crash) are shown as they are. */
export function formatLogLine(service: string, line: string): string {
  try {
    const record = JSON.parse(line) as { level?: string; msg?: string; context?: string };
    const context = record.context === undefined ? '' : `[${record.context}] `;
    return `${service.padEnd(11)} ${(record.level ?? '').padEnd(5)} ${context}${record.msg ?? ''}`;
  } catch {
    return `${service.padEnd(11)} ${line}`;
  }
}

/**
 * Creates or updates the audit stream and its consumer under the provisioning identity, by running
 * services/audit's provisioning step as a deploy would: once, before audit starts. Audit itself
 * may only read them.
 */
export async function provisionAuditStream(
  config: LauncherConfig,
  nats: PlatformNats,
  print: (line: string) => void,
): Promise<void> {
  const logDir = join(config.home, 'logs');
  await mkdir(logDir, { recursive: true });
  const credentials = nats.credentials('provisioner');
  const output: string[] = [];
  const step = startProcess(
    'audit-provision',
    process.execPath,
    [join(REPO_ROOT, 'services', 'audit', 'dist', 'src', 'provision.js')],
    {
      env: {
        ...config.inheritedEnv,
        NATS_URL: nats.url,
        ...nats.tlsEnv,
        ...(credentials.user === undefined ? {} : { NATS_USER: credentials.user }),
        ...(credentials.password === undefined ? {} : { NATS_PASSWORD: credentials.password }),
      },
      cwd: join(REPO_ROOT, 'services', 'audit'),
      logFile: join(logDir, 'audit-provision.log'),
      onLine: (line) => output.push(line),
    },
  );
  const code = await step.exited;
  if (code !== 0) {
    throw new Error(
      `provisioning the audit stream failed (${output.join(' ').trim() || `exit ${code}`})`,
    );
  }
  for (const line of output) print(line.replace('[audit-provision] ', '[launcher] provision   '));
}
