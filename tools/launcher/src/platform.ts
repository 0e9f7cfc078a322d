import type { LauncherConfig } from './config.js';
import { loadOrCreateDevTls, type DevTls } from './dev-ca.js';
import { externalNats, spawnedNats, type PlatformNats } from './nats.js';
import { embeddedPostgres, externalPostgres, type PlatformPostgres } from './postgres.js';
import type { ManagedProcess } from './processes.js';
import { loadOrCreateDevSecrets } from './secrets.js';
import {
  migrateEnvironment,
  provisionAuditStream,
  provisionDatabases,
  runMigrateStep,
  serviceEnvironment,
  startServiceProcess,
} from './services.js';
import { waitUntilReady, type Readiness } from './readiness.js';

/** The running platform. */
export interface RunningPlatform {
  readonly gatewayUrl: string;
  readonly readiness: Readiness;
  /** Resolves with the name of the first service that exits on its own. */
  readonly crashed: Promise<string>;
  /** Stops the services (gateway first), then NATS, then Postgres. */
  stop(): Promise<void>;
}

// Started in this order so that each finds what it depends on; stopped in reverse.
const START_ORDER = ['audit', 'vault-proxy', 'agent', 'gateway'] as const;

/**
 * Starts Postgres and NATS, provisions and migrates each service's schema, starts the four
 * services, and waits until the gateway reports ready.
 */
export async function launchPlatform(
  config: LauncherConfig,
  print: (line: string) => void,
): Promise<RunningPlatform> {
  const { secrets, created, file } = await loadOrCreateDevSecrets(config.home);
  print(`[launcher] development secrets ${created ? 'generated in' : 'loaded from'} ${file}`);
  const started: { postgres?: PlatformPostgres; nats?: PlatformNats; services: ManagedProcess[] } =
    { services: [] };
  let devTls: DevTls | undefined;
  if (config.tls) {
    devTls = await loadOrCreateDevTls(config.home);
    print(
      `[launcher] TLS         development CA ${devTls.created ? 'generated in' : 'loaded from'} ${devTls.caFile}`,
    );
  }
  const stop = async () => {
    for (const service of [...started.services].reverse()) await service.stop('SIGTERM');
    await started.nats?.stop();
    await started.postgres?.stop();
  };
  try {
    started.postgres = config.databaseUrl
      ? externalPostgres(config.databaseUrl, config.externalTlsEnv.DATABASE_TLS_CA_FILE)
      : await embeddedPostgres({
          home: config.home,
          port: config.postgresPort,
          superuserPassword: secrets.postgresSuperuserPassword,
          inheritedEnv: config.inheritedEnv,
          ...(devTls === undefined ? {} : { tls: devTls }),
        });
    print(`[launcher] postgres    ${started.postgres.description}`);
    started.nats = config.natsUrl
      ? externalNats(config.natsUrl, natsTlsEnv(config.externalTlsEnv))
      : await spawnedNats({
          home: config.home,
          port: config.natsPort,
          secrets,
          inheritedEnv: config.inheritedEnv,
          ...(devTls === undefined ? {} : { tls: devTls }),
          ...(config.natsMonitorPort === undefined ? {} : { monitorPort: config.natsMonitorPort }),
        });
    print(`[launcher] nats        ${started.nats.description}`);
    const tls = { databaseCaFile: started.postgres.tlsCaFile, gateway: devTls };
    const databases = await provisionDatabases(
      started.postgres.adminUrl,
      started.postgres.tlsCaFile,
      secrets,
      config.rolePrefix,
    );
    // Migrations are a step of their own, as the owner, before any service starts (in Kubernetes,
    // a Job); the services get their runtime (and job) roles only.
    for (const service of START_ORDER)
      await runMigrateStep(
        service,
        migrateEnvironment(config, databases[service], tls),
        config.home,
        print,
      );
    await provisionAuditStream(config, started.nats, print);
    for (const service of START_ORDER) {
      const env = serviceEnvironment(
        service,
        config,
        databases[service],
        started.nats,
        secrets,
        tls,
      );
      started.services.push(await startServiceProcess(service, env, config.home, print));
    }
    const crashed = Promise.race(
      started.services.map((service) => service.exited.then(() => service.name)),
    );
    const gatewayUrl = `${devTls === undefined ? 'http' : 'https'}://${config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost}:${config.httpPort}`;
    const readiness = await waitUntilReady(
      gatewayUrl,
      devTls?.caFile,
      crashed,
      config.readyTimeoutMs,
    );
    print('');
    print('HeroAgent is running');
    print(
      `  gateway      ${gatewayUrl}  (GET /healthz, /readyz)          ${readiness.services.gateway}`,
    );
    for (const service of ['agent', 'vault-proxy', 'audit'] as const) {
      const process = started.services.find((candidate) => candidate.name === service);
      print(
        `  ${service.padEnd(12)} NATS ${`${service === 'vault-proxy' ? 'vault' : service}.*`.padEnd(10)} pid ${process?.child.pid ?? '?'}   ${readiness.services[service]}`,
      );
    }
    const signIn = [
      config.gatewayEnv.OAUTH_GOOGLE_CLIENT_ID === undefined ? undefined : 'Google',
      config.gatewayEnv.OIDC_ISSUER === undefined ? undefined : config.gatewayEnv.OIDC_ISSUER,
    ].filter((name) => name !== undefined);
    print(
      signIn.length > 0
        ? `  sign-in      ${signIn.join(', ')}  (GET ${gatewayUrl}/v1/auth/providers)`
        : '  sign-in      no identity provider: set OAUTH_GOOGLE_CLIENT_ID and _SECRET (vault-proxy keeps the secret), or OIDC_ISSUER, OIDC_CLIENT_ID and _SECRET',
    );
    print(
      config.agentEnv.LLM_BASE_URL !== undefined ||
        config.agentEnv.AGENT_MODEL_PROVIDERS !== undefined
        ? `  models       ${config.agentEnv.LLM_BASE_URL === undefined ? 'AGENT_MODEL_PROVIDERS' : `${config.agentEnv.LLM_MODEL ?? 'llama3.1'} at ${config.agentEnv.LLM_BASE_URL}`}  (GET ${gatewayUrl}/v1/tenant/agent-settings)`
        : '  models       none: tasks in words are refused (MODEL_UNAVAILABLE); set LLM_BASE_URL to an OpenAI-compatible server such as Ollama',
    );
    print(`  console      ${gatewayUrl}/`);
    print(`  api          ${gatewayUrl}/v1/openapi.json`);
    print(`  postgres     ${started.postgres.description}`);
    print(`  nats         ${started.nats.description}`);
    print(
      devTls === undefined
        ? '  tls          off (HEROAGENT_TLS=off): plain HTTP, NATS and Postgres'
        : `  tls          TLS 1.3 on HTTPS, NATS (mutual) and Postgres; trust ${devTls.caFile} (or accept it) in your browser`,
    );
    print(`  secrets      ${file} (development only, git-ignored)`);
    print(`  logs         ${config.home}/logs/`);
    print('Press Ctrl-C to stop.');
    return { gatewayUrl, readiness, crashed, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

// The NATS_TLS_* variables given for an external NATS.
function natsTlsEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('NATS_TLS_')));
}
