import { sql, type Kysely } from 'kysely';
import { DatabaseError, quoteIdentifier } from './errors.js';

/** The roles and schema one service gets in a shared Postgres. */
export interface ServiceDatabasePlan {
  /** The service's schema, e.g. `audit`. */
  readonly schema: string;
  /** Owns the schema and runs migrations. */
  readonly ownerRole: string;
  readonly ownerPassword: string;
  /** What the service connects as at run time: no superuser, no BYPASSRLS, not an owner. */
  readonly runtimeRole: string;
  readonly runtimePassword: string;
}

const PASSWORD = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * Creates (or brings up to date) a service's schema and its two login roles, as a superuser or a
 * role with CREATEROLE would in a deploy step. The runtime role may read and write the schema's
 * tables and nothing else; row-level security always applies to it. Idempotent.
 */
export async function provisionServiceDatabase(
  admin: Kysely<unknown>,
  plan: ServiceDatabasePlan,
): Promise<void> {
  const schema = quoteIdentifier(plan.schema);
  const owner = quoteIdentifier(plan.ownerRole);
  const runtime = quoteIdentifier(plan.runtimeRole);
  for (const password of [plan.ownerPassword, plan.runtimePassword]) {
    if (!PASSWORD.test(password)) {
      throw new DatabaseError(
        'INVALID_IDENTIFIER',
        'role passwords are 16–128 base64url characters',
      );
    }
  }
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
  for (const statement of statements) await sql.raw(statement).execute(admin);
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
