import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationResult } from 'kysely/migration';
import { DatabaseError, quoteIdentifier } from './errors.js';
import { roleSetting, type MigrationRoles } from './roles.js';

/** A service's migrations by name (`YYYYMMDDHHmmss_verb_noun`), applied in name order. */
export type MigrationSet = Readonly<Record<string, Migration>>;

const NAME = /^\d{14}_[a-z0-9_]+$/;

/**
 * Applies every pending migration of one service, recording them in that service's own schema
 * (`<schema>.migrations`) so services never share migration state. `db` must connect as the
 * schema's owner (the migrate step; never a service); `roles` names the runtime and job roles the
 * migrations grant to, each checked first (it exists, is not the owner, a superuser or BYPASSRLS)
 * and handed to the migrations as `heroagent.<purpose>_role` (see {@link MigrationRoles}).
 * Afterwards the runtime role may read the migration record (a service checks it at boot) and
 * not change it. Throws `MIGRATION_FAILED` naming the migration that failed (rolled back with its
 * transaction), `INVALID_ROLE` or `UNSAFE_ROLE` before anything is applied.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  schema: string,
  migrations: MigrationSet,
  roles: MigrationRoles,
): Promise<string[]> {
  const schemaId = quoteIdentifier(schema);
  for (const name of Object.keys(migrations)) {
    if (!NAME.test(name)) {
      throw new DatabaseError(
        'MIGRATION_FAILED',
        `migration "${name}" is not named YYYYMMDDHHmmss_verb_noun`,
      );
    }
  }
  const settings = await checkMigrationRoles(db, schema, roles);
  // Every migration runs in the migrator's one transaction: the role settings are set, local to
  // it, before each, so they exist whichever migration runs first.
  const withRoles = Object.fromEntries(
    Object.entries(migrations).map(([name, migration]) => [
      name,
      {
        ...migration,
        async up(trx: Kysely<unknown>) {
          await sql`select ${sql.join(
            settings.map(([setting, role]) => sql`set_config(${setting}, ${role}, true)`),
          )}`.execute(trx);
          await migration.up(trx);
        },
      } satisfies Migration,
    ]),
  );
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(withRoles) },
    migrationTableSchema: schema,
    migrationTableName: 'migrations',
    migrationLockTableName: 'migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result: MigrationResult) => result.status === 'Error');
    throw new DatabaseError(
      'MIGRATION_FAILED',
      `migration ${failed?.migrationName ?? '(setup)'} of schema ${schema} failed: ${
        error instanceof Error ? error.message : 'unknown error'
      }`,
      { cause: error },
    );
  }
  // The record of what ran is the owner's: default privileges gave the runtime role write access
  // to these two tables as to any other; it keeps only reading which migrations ran.
  const runtime = quoteIdentifier(roles.runtime);
  await sql
    .raw(`revoke all on ${schemaId}.migrations, ${schemaId}.migrations_lock from ${runtime}`)
    .execute(db);
  await sql.raw(`grant select on ${schemaId}.migrations to ${runtime}`).execute(db);
  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}

interface RoleFacts {
  rolname: string;
  rolsuper: boolean;
  rolbypassrls: boolean;
  owner_member: boolean;
}

/** The role settings to hand the migrations, once the roles and the migrating role are checked. */
async function checkMigrationRoles(
  db: Kysely<unknown>,
  schema: string,
  roles: MigrationRoles,
): Promise<Array<[setting: string, role: string]>> {
  const entries = Object.entries(roles);
  const settings = entries.map(([purpose, role]): [string, string] => {
    quoteIdentifier(role);
    return [roleSetting(purpose), role];
  });
  if (new Set(entries.map(([, role]) => role)).size !== entries.length) {
    throw new DatabaseError('INVALID_ROLE', 'each purpose needs a role of its own');
  }
  const { rows: owners } = await sql<{ me: string; owner: string | null; superuser: boolean }>`
    select current_user as me, pg_get_userbyid(n.nspowner) as owner,
      (select rolsuper from pg_roles where rolname = current_user) as superuser
    from (select) as one left join pg_namespace n on n.nspname = ${schema}`.execute(db);
  const { me, owner, superuser } = owners[0]!;
  if (owner === null) {
    throw new DatabaseError(
      'MIGRATION_FAILED',
      `schema ${schema} does not exist: provision it first`,
    );
  }
  // As a superuser the tables would be the superuser's, and the runtime role's default
  // privileges (granted by the owner) would not apply to them.
  if (me !== owner || superuser) {
    throw new DatabaseError(
      'INVALID_ROLE',
      `migrations of schema ${schema} run as its owner ${owner}, not as ${me}`,
    );
  }
  const { rows } = await sql<RoleFacts>`
    select r.rolname, r.rolsuper, r.rolbypassrls,
      pg_has_role(r.oid, (select nspowner from pg_namespace where nspname = ${schema}), 'MEMBER')
        as owner_member
    from pg_roles r where r.rolname = any(${entries.map(([, role]) => role)}::text[])`.execute(db);
  for (const [purpose, role] of entries) {
    const facts = rows.find((row) => row.rolname === role);
    if (facts === undefined) {
      throw new DatabaseError(
        'INVALID_ROLE',
        `the ${purpose} role ${role} does not exist: provision it first`,
      );
    }
    if (facts.rolsuper || facts.rolbypassrls || facts.owner_member) {
      throw new DatabaseError(
        'UNSAFE_ROLE',
        `the ${purpose} role ${role} is a superuser, bypasses row-level security or is the owner`,
      );
    }
  }
  return settings;
}
