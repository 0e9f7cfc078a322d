// What the bench reads from the audit store behind the service's back, as a superuser.
import { sql, type Kysely } from '@heroagent/db';

/** What `openServiceDatabase` names the audit service's runtime connections. */
const AUDIT_APPLICATION = 'heroagent-audit';

/** What one look at the store sees: events committed, and what audit's connections are doing. */
export interface StoreSnapshot {
  /** Sum of the tenants' chain head sequences: committed events (heads move in the same transaction). */
  readonly committed: number;
  /** Audit connections running a statement in Postgres. */
  readonly active: number;
  /** Audit connections inside a transaction, waiting for the service to send the next statement. */
  readonly idleInTransaction: number;
}

/** Committed events and audit's connection states, in one cheap query (ten head rows). */
export async function readStoreSnapshot(admin: Kysely<unknown>): Promise<StoreSnapshot> {
  const { rows } = await sql<StoreSnapshot>`
    select
      (select coalesce(sum(seq), 0)::int from audit.chain_heads) as committed,
      count(*) filter (where state = 'active')::int as active,
      count(*) filter (where state like 'idle in transaction%')::int as "idleInTransaction"
    from pg_stat_activity
    where datname = current_database() and application_name = ${AUDIT_APPLICATION}`.execute(admin);
  return rows[0]!;
}

/** Rows in `audit.events`, counted whole (to check the head sums against). */
export async function countStoredEvents(admin: Kysely<unknown>): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from audit.events`.execute(
    admin,
  );
  return rows[0]!.n;
}

/** Process ids of the audit service's Postgres backends (on this machine: their CPU can be read). */
export async function auditBackendPids(admin: Kysely<unknown>): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity
    where datname = current_database() and application_name = ${AUDIT_APPLICATION}`.execute(admin);
  return rows.map((row) => row.pid);
}
