import { readFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { gatewayKeysErased, vaultConnectionsChanged } from '@heroagent/contracts';
import {
  ContractClient,
  databaseTlsFrom,
  natsServerOptions,
  openJobDatabase,
  openServiceDatabase,
  PinoNestLogger,
  PLATFORM_VERSION,
  RefusedRequests,
  startHealthListener,
  TLS_MIN_VERSION,
  type HealthListener,
} from '@heroagent/service';
import type { Kysely } from '@heroagent/db';
import type { Logger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { ExecutorLease } from './actions/executor-lease.js';
import { AppModule } from './app.module.js';
import { AccessTokenCache } from './connections/access-token-cache.js';
import { GATEWAY_JOBS, type GatewayConfig } from './config.js';
import { configureHttp } from './http/configure-http.js';
import { PublicOrigin } from './http/public-origin.js';
import { PersonalKeys } from './privacy/personal-keys.js';
import { ReadinessService } from './probes/readiness.service.js';

/** A running gateway: its HTTP address, and how to stop it. */
export interface RunningGateway {
  readonly app: NestExpressApplication;
  readonly url: string;
  /** The NATS requests it dropped unanswered (no reply subject, or one outside the agent's inbox). */
  readonly refusals: RefusedRequests;
  /** Its executor lease: held from before it served until it closes (or the lease is lost). */
  readonly lease: ExecutorLease;
  close(): Promise<void>;
}

/** How the process running a gateway hears of what only the process can act on. */
export interface GatewayHooks {
  /**
   * Called once if the replica's executor lease is lost (its Postgres session ended): other
   * replicas may already have settled its running actions as outcome unknown, so the process
   * should stop at once, as if killed, and start again under a new lease. Without it, the replica
   * only refuses to run more actions.
   */
  readonly onLeaseLost?: () => void;
}

/**
 * Boots the gateway: database (its runtime role, and one role per job), its executor lease, NATS
 * client and server, and the HTTP edge. The lease is held before anything is served, so no action
 * is ever recorded under an id whose lock is not held.
 */
export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  hooks: GatewayHooks = {},
): Promise<RunningGateway> {
  logger.info({ kid: config.signingKey.kid }, 'service keys loaded');
  const db = await openServiceDatabase({
    service: 'gateway',
    schema: config.schema,
    database: config.database,
    migrations,
    logger,
  });
  const jobs: { relay?: Kysely<unknown>; sweeper?: Kysely<unknown> } = {};
  let lease: ExecutorLease;
  try {
    for (const job of GATEWAY_JOBS) {
      jobs[job] = await openJobDatabase({
        service: 'gateway',
        job,
        schema: config.schema,
        url: config.jobDatabases[job],
        tlsCaFile: config.database.DATABASE_TLS_CA_FILE,
        logger,
      });
    }
    const tls = databaseTlsFrom(config.database.DATABASE_TLS_CA_FILE);
    lease = await ExecutorLease.take({
      connectionString: config.database.DATABASE_URL,
      ...(tls === undefined ? {} : { tls }),
      onLost: (error) => {
        logger.error(
          { err: String(error) },
          'executor lease lost: this replica runs no more actions, and others settle the ones it was running as outcome unknown',
        );
        hooks.onLeaseLost?.();
      },
    });
    logger.info({ executor: lease.id }, 'executor lease held');
  } catch (error) {
    for (const open of [jobs.relay, jobs.sweeper, db]) await open?.destroy();
    throw error;
  }
  const jobDatabases = { relay: jobs.relay!, sweeper: jobs.sweeper! };
  const client = ContractClient.create(config.nats, 'gateway');
  const identity = { name: 'gateway' as const, version: PLATFORM_VERSION, startedAt: new Date() };
  const publicOrigin = new PublicOrigin(config.http.publicOrigin);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register({
      identity,
      config,
      db,
      jobDatabases,
      logger,
      client,
      publicOrigin,
      lease,
    }),
    {
      logger: new PinoNestLogger(logger),
      bodyParser: false,
      ...(config.http.tls === undefined ? {} : { httpsOptions: httpsOptions(config.http.tls) }),
    },
  );
  configureHttp(app, config, logger);
  // The NATS side shares the app's global filter, which answers RPCs with coded errors.
  const refusals = new RefusedRequests('gateway', logger);
  app.connectMicroservice(natsServerOptions(config.nats, 'gateway', refusals), {
    inheritAppConfig: true,
  });
  await client.connect();
  // Another replica's erasure: this one forgets its copies of the erased keys at once.
  const keys = app.get(PersonalKeys);
  const stopForgetting = await client.subscribe(gatewayKeysErased, (erased) => {
    keys.forget(erased.tenantId, erased.userId);
  });
  // A connection vault-proxy changed: no replica serves its kept tokens again. Tokens are kept
  // only from now on, when this replica hears every change.
  const accessTokens = app.get(AccessTokenCache);
  const stopDropping = await client.subscribe(vaultConnectionsChanged, (changed) => {
    accessTokens.drop(changed.connectionId);
  });
  // Changes published while this replica's connection is down are lost to it: it forgets all.
  const stopForgettingOnLoss = await client.onDisconnect(() => accessTokens.clear());
  await client.ping();
  accessTokens.hearing();
  await app.startAllMicroservices();
  await app.listen(config.http.port, config.http.host);
  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  publicOrigin.listeningAt(url);
  logListener(logger, config, url);
  // HEALTH_PORT: the same readiness as /readyz, over plain HTTP for a container engine's check.
  let health: HealthListener | undefined;
  if (config.health.port !== undefined) {
    const readiness = app.get(ReadinessService);
    health = await startHealthListener({
      host: config.health.host,
      port: config.health.port,
      readiness: async () => {
        const { status, checks } = await readiness.check();
        return { ready: status === 'ready', checks };
      },
      logger,
    }).catch(async (error: unknown) => {
      await app.close();
      throw error;
    });
  }
  logger.info({ url }, 'gateway ready');
  return {
    app,
    url,
    refusals,
    lease,
    async close() {
      await health?.close();
      stopForgetting();
      stopDropping();
      stopForgettingOnLoss();
      await app.close();
      await client.close();
      // After everything this replica was running has finished or stopped.
      await lease.release();
      await jobDatabases.relay.destroy();
      await jobDatabases.sweeper.destroy();
      await db.destroy();
    },
  };
}

/** The HTTPS listener's settings: the certificate and key, read once at start; TLS 1.3 at least. */
function httpsOptions(tls: { certFile: string; keyFile: string }) {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    minVersion: TLS_MIN_VERSION,
  } as const;
}

/** Says at start, plainly, whether the gateway serves HTTPS, or plain HTTP and why. */
function logListener(logger: Logger, config: GatewayConfig, url: string): void {
  if (config.http.tls !== undefined) {
    logger.info({ url, tls: 'TLSv1.3 minimum' }, 'serving HTTPS (HTTP_TLS_CERT_FILE)');
  } else if (config.http.behindTlsProxy) {
    logger.info(
      { url },
      'serving plain HTTP: TLS is terminated by the proxy in front (HTTP_BEHIND_TLS_PROXY=true)',
    );
  } else {
    logger.info(
      { url },
      'serving plain HTTP, without TLS: set HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE, or HTTP_BEHIND_TLS_PROXY=true behind a TLS-terminating proxy',
    );
  }
}
