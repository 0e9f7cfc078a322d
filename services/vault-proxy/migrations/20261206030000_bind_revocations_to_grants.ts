import { sql, type Kysely } from '@heroagent/db';

/**
 * Revocation bound to the grant it was asked for. `connections.secret_id` names where the
 * connection's current grant keeps its refresh token: the connection's id for its first grant,
 * a new id for each grant after a finished revocation, so the work of an old revocation can never
 * reach a later grant's token. A revocation records the `secret_id` it revokes, and `claim`, the
 * attempt that holds it: only that attempt may retry or complete it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  // Row-level security is forced on both tables: the backfill runs as their owner, unforced for it.
  await sql`alter table connections add column secret_id uuid`.execute(db);
  await sql`alter table connections no force row level security`.execute(db);
  await sql`update connections set secret_id = id`.execute(db);
  await sql`alter table connections force row level security`.execute(db);
  await sql`alter table connections alter column secret_id set not null`.execute(db);

  await sql`alter table revocations add column secret_id uuid`.execute(db);
  await sql`alter table revocations add column claim uuid`.execute(db);
  await sql`alter table revocations no force row level security`.execute(db);
  await sql`update revocations set secret_id = connection_id`.execute(db);
  await sql`alter table revocations force row level security`.execute(db);
  await sql`alter table revocations alter column secret_id set not null`.execute(db);
}
