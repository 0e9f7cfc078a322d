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
import type { DatabaseConfig, NatsConfig } from './config.js';
import type { ServiceIdentity } from './health/health.service.js';
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
  /** Closes Nest (in-flight requests finish, subscriptions drain), then the database pool. */
  close(): Promise<void>;
}

/** Boots one NATS-only service: database (checked), then the Nest microservice on its subjects. */
export async function startService<
  C extends { database: DatabaseConfig; nats: NatsConfig },
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
  logger.info(
    { nats: redactUrl(options.config.nats.NATS_URL), schema: options.schema },
    `${service} ready`,
  );
  return {
    app,
    refusals,
    async close() {
      await app.close();
      await db.destroy();
    },
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
