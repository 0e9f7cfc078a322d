import type { ServiceName } from '@heroagent/contracts';
import { createDatabase, migrateToLatest, type MigrationSet } from '@heroagent/db';
import { createLogger, type Logger } from '@heroagent/telemetry';
import { loadMigrateConfig, type MigrateConfig } from './config.js';
import { databaseTlsFrom } from './transport-security.js';

/**
 * The migrate step of one service: applies its pending migrations as the schema's owner, handing
 * them the runtime and job role names. It runs before the service starts (`pnpm start` runs it
 * for each service; in Kubernetes, a Job), and is the only process that holds the owner's
 * credentials. Answers the migrations it applied.
 */
export async function migrateService(options: {
  service: ServiceName;
  config: MigrateConfig;
  migrations: MigrationSet;
  logger: Logger;
}): Promise<string[]> {
  const { config } = options;
  const tls = databaseTlsFrom(config.tlsCaFile);
  const owner = createDatabase<unknown>({
    connectionString: config.ownerUrl,
    schema: config.schema,
    applicationName: `heroagent-${options.service}-migrate`,
    maxConnections: 1,
    ...(tls === undefined ? {} : { tls }),
  });
  try {
    const applied = await migrateToLatest(owner, config.schema, options.migrations, config.roles);
    options.logger.info(
      { schema: config.schema, applied, roles: config.roles },
      applied.length === 0 ? 'schema already up to date' : 'migrations applied',
    );
    return applied;
  } finally {
    await owner.destroy();
  }
}

/**
 * A service's `migrate.js` entry: reads the migrate step's environment (a bad variable exits 78,
 * naming it), migrates, and exits 0, or 1 with the coded reason logged.
 */
export async function runMigrateStep(options: {
  service: ServiceName;
  /** The schema when `DATABASE_SCHEMA` is not given. */
  schema: string;
  /** The service's cross-tenant jobs: each needs `DATABASE_<JOB>_ROLE`. */
  jobs: readonly string[];
  migrations: MigrationSet;
}): Promise<void> {
  const config = loadMigrateConfig(options.service, options);
  const logger = createLogger({
    service: `${options.service}-migrate`,
    level: config.telemetry.LOG_LEVEL,
  });
  try {
    await migrateService({ ...options, config, logger });
    logger.flush();
    process.exit(0);
  } catch (error) {
    logger.fatal({ err: error }, 'migrations failed');
    logger.flush();
    process.exit(1);
  }
}
