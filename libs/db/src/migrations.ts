import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationResult } from 'kysely/migration';
import { DatabaseError, quoteIdentifier } from './errors.js';

/** A service's migrations by name (`YYYYMMDDHHmmss_verb_noun`), applied in name order. */
export type MigrationSet = Readonly<Record<string, Migration>>;

const NAME = /^\d{14}_[a-z0-9_]+$/;

/**
 * Applies every pending migration of one service, recording them in that service's own schema
 * (`<schema>.migrations`) so services never share migration state. Throws `MIGRATION_FAILED`
 * naming the migration that failed; a failed migration is rolled back with its transaction.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  schema: string,
  migrations: MigrationSet,
): Promise<string[]> {
  quoteIdentifier(schema);
  for (const name of Object.keys(migrations)) {
    if (!NAME.test(name)) {
      throw new DatabaseError(
        'MIGRATION_FAILED',
        `migration "${name}" is not named YYYYMMDDHHmmss_verb_noun`,
      );
    }
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...migrations }) },
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
  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}
