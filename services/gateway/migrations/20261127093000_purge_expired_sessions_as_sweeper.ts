import { sql, type Kysely } from '@heroagent/db';

/**
 * Expired sessions and OAuth flows are purged by the sweeper role, no longer by the runtime role.
 *
 * Migration 20261125200000 let every role see and delete, across tenants, sessions and flows past
 * their expiry: they grant nothing any more, but a session row still names a person, their
 * tenant, address and browser. Those policies now name the sweeper (`heroagent.sweeper_role`),
 * which may read of them only their ids and expiry times, and delete them. The runtime role keeps
 * the rows a bearer secret or the signed-in person proves.
 *
 * Frozen: policies are written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ sweeper: string }>`
    select current_setting('heroagent.sweeper_role') as sweeper`.execute(db);
  const sweeper = sql.id(rows[0]!.sweeper);

  for (const [table, policy] of [
    ['sessions', 'sessions_expired_for_deletion'],
    ['sessions', 'sessions_expired_deletes'],
    ['oauth_flows', 'oauth_flows_expired_for_deletion'],
    ['oauth_flows', 'oauth_flows_expired_deletes'],
  ] as const) {
    await sql`alter policy ${sql.id(policy)} on ${sql.table(table)} to ${sweeper}`.execute(db);
  }
  await sql`grant select (id, expires_at, idle_expires_at), delete on sessions to ${sweeper}`.execute(
    db,
  );
  await sql`grant select (state_hash, expires_at), delete on oauth_flows to ${sweeper}`.execute(db);
}
