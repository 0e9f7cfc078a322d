import { sql, type Kysely } from '@heroagent/db';

/**
 * An index on `actions.undoes`, the reference from an undo to the action it undid. Without it,
 * deleting actions (a person's closure, a tenant's, retention) checks that reference by reading
 * the whole table once per deleted row: closing an account with 10,000 actions took seconds
 * (bench:erasure). Only undos have it set, so the index holds only them.
 *
 * Frozen: it never imports application code.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index actions_by_undoes on actions (undoes) where undoes is not null`.execute(
    db,
  );
}
