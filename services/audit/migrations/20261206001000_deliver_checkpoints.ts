import { sql, type Kysely } from '@heroagent/db';

/**
 * Checkpoints leave the operator: every SIEM destination receives each checkpoint of its tenant
 * after the events it covers, and a destination of kind `webhook` (HTTPS, checkpoints only)
 * receives each one as a signed POST. `checkpoints_through` is the delivery cursor (the number of
 * the last checkpoint the receiver accepted), kept in Postgres so delivery survives restarts and is
 * shared by every replica.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table siem_destinations
      add column kind text not null default 'otlp' check (kind in ('otlp', 'webhook')),
      add column checkpoints_through bigint not null default 0 check (checkpoints_through >= 0)`.execute(
    db,
  );
}
