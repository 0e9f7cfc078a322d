import { sql, type Kysely } from 'kysely';
import { DatabaseError, quoteIdentifier } from './errors.js';

/**
 * A login role for a job that works across tenants (the gateway's outbox relay, its sweepers).
 * Provisioning gives it the schema and nothing in it: every table privilege and row policy it has
 * comes from a migration that names it (see {@link migrateToLatest}'s `roles`).
 */
export interface JobRole {
  /** What the migrations call it, e.g. `relay`: they read its name from `heroagent.relay_role`. */
  readonly job: string;
  readonly role: string;
  readonly password: string;
}

/** The roles and schema one service gets in a shared Postgres. */
export interface ServiceDatabasePlan {
  /** The service's schema, e.g. `audit`. */
  readonly schema: string;
  /** Owns the schema and runs migrations (the migrate step); never given to a service process. */
  readonly ownerRole: string;
  readonly ownerPassword: string;
  /** What the service connects as at run time: no superuser, no BYPASSRLS, not an owner. */
  readonly runtimeRole: string;
  readonly runtimePassword: string;
  /** The service's cross-tenant jobs, each its own login role (none for most services). */
  readonly jobRoles?: readonly JobRole[];
}

const PASSWORD = /^[A-Za-z0-9_-]{16,128}$/;
/** A job's name: it becomes part of a setting name, `heroagent.<job>_role`. */
export const JOB_NAME = /^[a-z][a-z0-9_]{0,30}$/;

/**
 * Creates (or brings up to date) a service's schema and its login roles, as a superuser or a role
 * with CREATEROLE would in an install step. The runtime role may read and write the schema's
 * tables (row-level security always applies to it) and create nothing; job roles get only the
 * schema's usage. Idempotent.
 */
export async function provisionServiceDatabase(
  admin: Kysely<unknown>,
  plan: ServiceDatabasePlan,
): Promise<void> {
  const jobs = plan.jobRoles ?? [];
  checkPlan(plan, jobs);
  const schema = quoteIdentifier(plan.schema);
  const owner = quoteIdentifier(plan.ownerRole);
  const runtime = quoteIdentifier(plan.runtimeRole);
  const database = (await sql<{ db: string }>`select current_database() as db`.execute(admin))
    .rows[0]?.db;
  const databaseId = quoteIdentifier(database ?? '');
  const roleAttributes = 'login nosuperuser nocreatedb nocreaterole noreplication nobypassrls';
  const statements = [
    ensureRole(plan.ownerRole, owner, roleAttributes, plan.ownerPassword),
    ensureRole(plan.runtimeRole, runtime, roleAttributes, plan.runtimePassword),
    `grant connect on database ${databaseId} to ${owner}, ${runtime}`,
    `create schema if not exists ${schema} authorization ${owner}`,
    `alter schema ${schema} owner to ${owner}`,
    `revoke all on schema ${schema} from public`,
    `grant usage on schema ${schema} to ${runtime}`,
    `alter default privileges for role ${owner} in schema ${schema} grant select, insert, update, delete on tables to ${runtime}`,
    `alter default privileges for role ${owner} in schema ${schema} grant usage, select on sequences to ${runtime}`,
    `alter role ${owner} set search_path = ${schema}`,
    `alter role ${runtime} set search_path = ${schema}`,
  ];
  for (const job of jobs) {
    const role = quoteIdentifier(job.role);
    statements.push(
      ensureRole(job.role, role, roleAttributes, job.password),
      `grant connect on database ${databaseId} to ${role}`,
      `grant usage on schema ${schema} to ${role}`,
      `alter role ${role} set search_path = ${schema}`,
    );
  }
  for (const statement of statements) await sql.raw(statement).execute(admin);
}

function checkPlan(plan: ServiceDatabasePlan, jobs: readonly JobRole[]): void {
  for (const password of [
    plan.ownerPassword,
    plan.runtimePassword,
    ...jobs.map((j) => j.password),
  ]) {
    if (!PASSWORD.test(password)) {
      throw new DatabaseError(
        'INVALID_IDENTIFIER',
        'role passwords are 16–128 base64url characters',
      );
    }
  }
  for (const job of jobs) {
    if (!JOB_NAME.test(job.job) || job.job === 'runtime') {
      throw new DatabaseError(
        'INVALID_ROLE',
        `"${job.job}" is not a job name (lower-case letters, digits and _, not "runtime")`,
      );
    }
  }
  const roles = [plan.ownerRole, plan.runtimeRole, ...jobs.map((job) => job.role)];
  if (
    new Set(roles).size !== roles.length ||
    new Set(jobs.map((job) => job.job)).size !== jobs.length
  ) {
    throw new DatabaseError(
      'INVALID_ROLE',
      'the owner, the runtime role and each job need roles (and jobs names) of their own',
    );
  }
}

function ensureRole(name: string, quoted: string, attributes: string, password: string): string {
  // Role names and passwords were checked above; CREATE ROLE cannot take bind parameters.
  return `do $$ begin
    if not exists (select from pg_roles where rolname = '${name}') then
      create role ${quoted} ${attributes} password '${password}';
    else
      alter role ${quoted} ${attributes} password '${password}';
    end if;
  end $$`;
}

/** Replaces user and password in a Postgres URL, keeping host, port, database and parameters. */
export function withCredentials(connectionString: string, user: string, password: string): string {
  const url = new URL(connectionString);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}
