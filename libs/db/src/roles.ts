import { sql, type Kysely } from 'kysely';
import { DatabaseError, quoteIdentifier } from './errors.js';
import { JOB_NAME } from './provision.js';

/**
 * The roles a service's migrations grant to and write policies for, by purpose: always `runtime`
 * (what the service connects as), and each cross-tenant job's role (`relay`, `sweeper`…).
 *
 * Role names differ per installation (and per test database) while migrations are frozen, so a
 * migration never spells one: the runner sets `heroagent.<purpose>_role` for the migration's
 * transaction and the migration reads it with `current_setting(…)`, quoting it with `format('%I')`.
 * A migration that needs a role it was not given fails on the missing setting.
 */
export type MigrationRoles = Readonly<{ runtime: string } & Record<string, string>>;

/** The setting a migration reads a role's name from: `heroagent.<purpose>_role`. */
export function roleSetting(purpose: string): string {
  if (!JOB_NAME.test(purpose)) {
    throw new DatabaseError('INVALID_ROLE', `"${purpose}" is not a role purpose`);
  }
  return `heroagent.${purpose}_role`;
}

interface RoleFacts {
  role: string;
  superuser: boolean;
  bypassrls: boolean;
  schema_exists: boolean;
  owner_member: boolean;
  may_create: boolean;
  owns_tables: boolean;
}

/**
 * Checks the role `db` connects as is fit for a service or one of its jobs in `schema`: not a
 * superuser, not BYPASSRLS, neither the schema's owner nor a member of it, unable to create in it
 * and owning none of its tables. Throws `UNSAFE_ROLE` naming what is wrong (`NOT_MIGRATED` when the
 * schema does not exist); answers the role's name.
 */
export async function checkServiceRole(db: Kysely<unknown>, schema: string): Promise<string> {
  quoteIdentifier(schema);
  const { rows } = await sql<RoleFacts>`
    select r.rolname as role, r.rolsuper as superuser, r.rolbypassrls as bypassrls,
      n.oid is not null as schema_exists,
      coalesce(pg_has_role(r.oid, n.nspowner, 'MEMBER'), false) as owner_member,
      coalesce(has_schema_privilege(r.oid, n.oid, 'CREATE'), false) as may_create,
      exists (select from pg_class c where c.relnamespace = n.oid and c.relowner = r.oid) as owns_tables
    from pg_roles r left join pg_namespace n on n.nspname = ${schema}
    where r.rolname = current_user`.execute(db);
  const facts = rows[0];
  if (facts === undefined) throw new DatabaseError('UNSAFE_ROLE', 'the connection has no role');
  if (!facts.schema_exists) {
    throw new DatabaseError(
      'NOT_MIGRATED',
      `schema ${schema} does not exist: provision it, then run the service's migrate step`,
    );
  }
  const problems = [
    facts.superuser && 'is a superuser',
    facts.bypassrls && 'bypasses row-level security',
    facts.owner_member && `owns schema ${schema} (or is a member of its owner)`,
    facts.may_create && `may create objects in schema ${schema}`,
    facts.owns_tables && `owns tables in schema ${schema}`,
  ].filter((problem): problem is string => typeof problem === 'string');
  if (problems.length > 0) {
    throw new DatabaseError(
      'UNSAFE_ROLE',
      `role ${facts.role} ${problems.join(', ')}: a service connects only as its runtime role ` +
        '(or a job role), never as the owner, which only the migrate step uses',
    );
  }
  return facts.role;
}

/**
 * Checks every migration the service knows is applied to its schema (the migrate step ran), so a
 * service never starts against tables older than its code. Migrations the code does not know
 * (a newer release already migrated) are fine. Throws `NOT_MIGRATED`.
 */
export async function checkMigrated(
  db: Kysely<unknown>,
  schema: string,
  names: readonly string[],
): Promise<void> {
  const table = `${quoteIdentifier(schema)}.migrations`;
  let applied: Set<string>;
  try {
    const { rows } = await sql<{ name: string }>`select name from ${sql.raw(table)}`.execute(db);
    applied = new Set(rows.map((row) => row.name));
  } catch (error) {
    if ((error as { code?: string }).code !== '42P01') throw error;
    throw new DatabaseError(
      'NOT_MIGRATED',
      `schema ${schema} was never migrated: run the service's migrate step first`,
      { cause: error },
    );
  }
  const missing = names.filter((name) => !applied.has(name));
  if (missing.length > 0) {
    throw new DatabaseError(
      'NOT_MIGRATED',
      `schema ${schema} lacks ${missing.length} migration(s) (${missing.slice(0, 3).join(', ')}${
        missing.length > 3 ? ', …' : ''
      }): run the service's migrate step first`,
    );
  }
}
