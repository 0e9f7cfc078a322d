import type { NatsConnection } from '@nats-io/nats-core';
import type { DynamicModule, INestMicroservice } from '@nestjs/common';
import type { ServiceName } from '@heroagent/contracts';
import {
  checkMigrated,
  checkServiceRole,
  createDatabase,
  type Kysely,
  type MigrationSet,
} from '@heroagent/db';
import type { Logger, Telemetry } from '@heroagent/telemetry';
import { startMicroservice, stopOnSignals } from './boot.js';
import type { DatabaseConfig, HealthListenerConfig, NatsConfig } from './config.js';
import {
  startHealthListener,
  type HealthListener,
  type ReadinessProbe,
} from './health/health-listener.js';
import { HealthService, type ServiceIdentity } from './health/health.service.js';
import { RefusedRequests } from './nats/refused-requests.js';
import { databaseTlsFrom } from './transport-security.js';
import { PLATFORM_VERSION } from './version.js';

/** What a service's root module is built from. */
export interface ServiceRuntime<C> {
  readonly identity: ServiceIdentity;
  readonly config: C;
  readonly db: Kysely<unknown>;
  readonly logger: Logger;
}

/**
 * Opens a service's runtime connection, after checking what it connects as: never the schema's
 * owner, a superuser or a role that bypasses row-level security (`UNSAFE_ROLE`), and only to a
 * schema that has every migration this build knows (`NOT_MIGRATED`: run the migrate step first).
 * A service never migrates: see `migrateService`.
 */
export async function openServiceDatabase(options: {
  service: ServiceName;
  schema: string;
  database: DatabaseConfig;
  migrations: MigrationSet;
  logger: Logger;
}): Promise<Kysely<unknown>> {
  const tls = databaseTlsFrom(options.database.DATABASE_TLS_CA_FILE);
  const db = createDatabase<unknown>({
    connectionString: options.database.DATABASE_URL,
    schema: options.schema,
    applicationName: `heroagent-${options.service}`,
    ...(tls === undefined ? {} : { tls }),
  });
  try {
    const role = await checkServiceRole(db, options.schema);
    await checkMigrated(db, options.schema, Object.keys(options.migrations));
    options.logger.info({ schema: options.schema, role }, 'database role and schema checked');
    return db;
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

/**
 * Opens the connection of one of a service's cross-tenant jobs (the gateway's outbox relay, its
 * sweepers): a login role of its own, checked like the runtime role (`UNSAFE_ROLE`), whose reach
 * is only what the migrations grant it and the row policies that name it.
 */
export async function openJobDatabase(options: {
  service: ServiceName;
  job: string;
  schema: string;
  url: string;
  /** The CA that verifies Postgres (the service's DATABASE_TLS_CA_FILE); absent: no TLS. */
  tlsCaFile?: string | undefined;
  logger: Logger;
}): Promise<Kysely<unknown>> {
  const tls = databaseTlsFrom(options.tlsCaFile);
  const db = createDatabase<unknown>({
    connectionString: options.url,
    schema: options.schema,
    applicationName: `heroagent-${options.service}-${options.job}`,
    maxConnections: 2,
    ...(tls === undefined ? {} : { tls }),
  });
  try {
    const role = await checkServiceRole(db, options.schema);
    options.logger.info({ job: options.job, role }, 'job database role checked');
    return db;
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

/** A service started in this process. */
export interface RunningService {
  readonly app: INestMicroservice;
  /** The requests it dropped unanswered (no reply subject, or one outside its callers' inboxes). */
  readonly refusals: RefusedRequests;
  /** Its health listener (HEALTH_PORT), when one was asked for. */
  readonly health?: HealthListener | undefined;
  /** Closes the health listener, then Nest (in-flight requests finish, subscriptions drain), then the database pool. */
  close(): Promise<void>;
}

/**
 * Boots one NATS-only service: database (checked), then the Nest microservice on its subjects,
 * then, when `HEALTH_PORT` is set, its health listener ({@link serviceReadiness}).
 */
export async function startService<
  C extends { database: DatabaseConfig; nats: NatsConfig; health?: HealthListenerConfig },
>(options: {
  service: ServiceName;
  schema: string;
  config: C;
  logger: Logger;
  migrations: MigrationSet;
  module: (runtime: ServiceRuntime<C>) => DynamicModule;
}): Promise<RunningService> {
  const { service, logger } = options;
  const db = await openServiceDatabase({
    service,
    schema: options.schema,
    database: options.config.database,
    migrations: options.migrations,
    logger,
  });
  const identity: ServiceIdentity = {
    name: service,
    version: PLATFORM_VERSION,
    startedAt: new Date(),
  };
  const refusals = new RefusedRequests(service, logger);
  let app: INestMicroservice;
  try {
    app = await startMicroservice({
      service,
      module: options.module({ identity, config: options.config, db, logger }),
      nats: options.config.nats,
      logger,
      refusals,
    });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let health: HealthListener | undefined;
  const port = options.config.health?.port;
  if (port !== undefined) {
    try {
      health = await startHealthListener({
        host: options.config.health!.host,
        port,
        readiness: serviceReadiness(app, identity),
        logger,
      });
    } catch (error) {
      await app.close();
      await db.destroy();
      throw error;
    }
  }
  logger.info(
    { nats: redactUrl(options.config.nats.NATS_URL), schema: options.schema },
    `${service} ready`,
  );
  return {
    app,
    refusals,
    health,
    async close() {
      await health?.close();
      await app.close();
      await db.destroy();
    },
  };
}

/**
 * A NATS-only service's readiness: its own health report (the one its health RPC answers: its
 * database, and whatever else its module checks) and a round trip on the NATS connection its
 * handlers listen on, each bounded by the report's timeout.
 */
export function serviceReadiness(
  app: INestMicroservice,
  identity: ServiceIdentity,
): ReadinessProbe {
  const report = app.get(HealthService, { strict: false });
  const nats = new HealthService(identity, [
    { name: 'nats', check: () => app.unwrap<NatsConnection>().flush() },
  ]);
  return async () => {
    const [own, connection] = await Promise.all([report.report(), nats.report()]);
    const checks = [...own.checks, ...connection.checks];
    return {
      ready: checks.every((check) => check.status === 'up'),
      checks: Object.fromEntries(checks.map((check) => [check.name, check.status])),
    };
  };
}

/** Runs a service until SIGINT/SIGTERM, then closes it and flushes telemetry. */
export async function runService(
  start: () => Promise<RunningService | { close(): Promise<void> }>,
  logger: Logger,
  telemetry: Telemetry,
): Promise<void> {
  let running: { close(): Promise<void> };
  try {
    running = await start();
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    await telemetry.shutdown();
    logger.flush();
    process.exit(1);
  }
  stopOnSignals(logger, async () => {
    await running.close();
    await telemetry.shutdown();
  });
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/g, '//');
}
