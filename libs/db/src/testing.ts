import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createDatabase } from './database.js';
import { migrateToLatest, type MigrationSet } from './migrations.js';
import {
  provisionServiceDatabase,
  withCredentials,
  type ServiceDatabasePlan,
} from './provision.js';
import type { MigrationRoles } from './roles.js';

/**
 * The Postgres superuser URL tests create their databases with. Tests always use a real server:
 * the machine's own (trust auth on 127.0.0.1) unless TEST_DATABASE_URL names another.
 */
// process.env is read here rather than in a config.ts: this module is test tooling, not a service.
export const TEST_ADMIN_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throw-away database for one test file. */
export interface TestDatabase {
  readonly name: string;
  /** Superuser URL of the new database. */
  readonly adminUrl: string;
  /**
   * Provisions a service schema with owner and runtime roles unique to this database, and a login
   * role for each of `jobs` (the gateway's `relay` and `sweeper`).
   */
  provisionService(
    schema: string,
    options?: { jobs?: readonly string[] },
  ): Promise<ProvisionedService>;
  /** Drops the database and every role it created. */
  drop(): Promise<void>;
}

/** URLs for one provisioned service schema. */
export interface ProvisionedService {
  readonly plan: ServiceDatabasePlan;
  readonly ownerUrl: string;
  readonly runtimeUrl: string;
  /** Each job's URL, by job name. */
  readonly jobUrls: Readonly<Record<string, string>>;
  /** The role names the migrations are given (`runtime` and each job). */
  readonly roles: MigrationRoles;
  /** The migrate step: applies `migrations` as the schema's owner; answers what it applied. */
  migrate(migrations: MigrationSet): Promise<string[]>;
}

/** Creates a fresh database (`ha_test_<random>`) on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const suffix = randomBytes(6).toString('hex');
  const name = `ha_test_${suffix}`;
  await withAdmin(TEST_ADMIN_URL, (admin) => sql.raw(`create database "${name}"`).execute(admin));
  const adminUrl = databaseUrl(TEST_ADMIN_URL, name);
  const roles: string[] = [];
  return {
    name,
    adminUrl,
    async provisionService(schema, options = {}) {
      const plan: ServiceDatabasePlan = {
        schema,
        ownerRole: `${name}_${schema}_owner`.slice(0, 63),
        ownerPassword: randomBytes(18).toString('base64url'),
        runtimeRole: `${name}_${schema}_app`.slice(0, 63),
        runtimePassword: randomBytes(18).toString('base64url'),
        jobRoles: (options.jobs ?? []).map((job) => ({
          job,
          role: `${name}_${schema}_${job}`.slice(0, 63),
          password: randomBytes(18).toString('base64url'),
        })),
      };
      const jobRoles = plan.jobRoles ?? [];
      roles.push(plan.ownerRole, plan.runtimeRole, ...jobRoles.map((job) => job.role));
      await withAdmin(adminUrl, (admin) => provisionServiceDatabase(admin, plan));
      const ownerUrl = withCredentials(adminUrl, plan.ownerRole, plan.ownerPassword);
      const migrationRoles: MigrationRoles = {
        ...Object.fromEntries(jobRoles.map((job) => [job.job, job.role])),
        runtime: plan.runtimeRole,
      };
      return {
        plan,
        ownerUrl,
        runtimeUrl: withCredentials(adminUrl, plan.runtimeRole, plan.runtimePassword),
        jobUrls: Object.fromEntries(
          jobRoles.map((job) => [job.job, withCredentials(adminUrl, job.role, job.password)]),
        ),
        roles: migrationRoles,
        async migrate(migrations) {
          const owner = createDatabase<unknown>({
            connectionString: ownerUrl,
            schema,
            applicationName: 'heroagent-test-migrate',
            maxConnections: 1,
          });
          try {
            return await migrateToLatest(owner, schema, migrations, migrationRoles);
          } finally {
            await owner.destroy();
          }
        },
      };
    },
    async drop() {
      await withAdmin(TEST_ADMIN_URL, async (admin) => {
        // Pools the test closed may still be saying goodbye: give their sessions a moment to end
        // by themselves, so `with (force)` does not kill one mid-close (an unhandled pg error).
        for (let waited = 0; waited < 2000; waited += 50) {
          const open = await sql<{ count: string }>`
            select count(*) as count from pg_stat_activity where datname = ${name}
          `.execute(admin);
          if (Number(open.rows[0]?.count ?? 0) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await sql.raw(`drop database if exists "${name}" with (force)`).execute(admin);
        for (const role of roles) await sql.raw(`drop role if exists "${role}"`).execute(admin);
      });
    },
  };
}

/** The same server URL pointing at another database. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(url: string, fn: (admin: Kysely<unknown>) => Promise<T>): Promise<T> {
  const admin = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
  });
  try {
    return await fn(admin);
  } finally {
    await admin.destroy();
  }
}
