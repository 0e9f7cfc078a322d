import { sql, type Kysely } from 'kysely';

/** Resolves when the database answers a trivial query; for health checks. */
export async function pingDatabase(db: Kysely<unknown>): Promise<void> {
  await sql`select 1`.execute(db);
}
