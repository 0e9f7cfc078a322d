import { sql, type Kysely } from '@heroagent/db';

/**
 * What holding every admitted action to the same checks needs: an approval can now be cancelled
 * (its task stopped, its tenant's agents paused, its person no longer a member), and an action
 * keeps the values of its parameters that did not come from the person — the gateway's own
 * finding, with the agent's declaration added — so every later decision on it (running it after
 * its approval, releasing a held send, the policy simulator) sees the same. A task keeps the
 * address of the account it acts through (the person's own address is theirs to write to) and
 * how its actions were chosen.
 *
 * Frozen: it never imports application code.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table approvals drop constraint approvals_status_check`.execute(db);
  await sql`
    alter table approvals add constraint approvals_status_check
      check (status in ('pending', 'approved', 'denied', 'expired', 'cancelled'))
  `.execute(db);
  await sql`alter table actions add column untrusted jsonb not null default '[]'`.execute(db);
  await sql`alter table tasks add column account text check (length(account) <= 320)`.execute(db);
  // How its actions were chosen: from the person's words, listed by an API client, or broad.
  await sql`
    alter table tasks add column scope text not null default 'listed'
      check (scope in ('derived', 'listed', 'broad'))
  `.execute(db);
  // Held actions are found by task and by person when a stop, a pause or a removal cancels them.
  await sql`
    create index actions_held on actions (tenant_id, user_id, task_id)
      where status in ('pending_approval', 'approved', 'scheduled')
  `.execute(db);
}
