import { sql, type Kysely } from '@heroagent/db';

/**
 * Each action records the gateway replica running it (`executor`): the random id a replica takes
 * at boot and holds a session-level advisory lock on for its lifetime (`gateway.replica:<id>`).
 * Another session that can take that lock knows the replica is gone, so an action left
 * `executing` by a replica that died is settled at once — failed, outcome unknown — instead of
 * after the ten minutes any call may take. Rows from before have none: they keep that rule.
 *
 * The runtime role writes it with the rest of the row (its table-wide privileges cover new
 * columns); the sweeper reads it (`SELECT` on actions) and never writes it, so no grant changes.
 *
 * Frozen: it never imports application code.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table actions add column executor uuid`.execute(db);
  // What the sweeps look through: the actions running now, by who runs them.
  await sql`
    create index actions_executing on actions (executor) where status = 'executing'
  `.execute(db);
}
