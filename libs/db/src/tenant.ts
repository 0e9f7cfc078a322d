import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { DatabaseError } from './errors.js';
import { advisoryLockKey } from './session-lock.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The session setting that row-level security policies read. */
export const TENANT_SETTING = 'app.tenant_id';

// The tenant each open transaction was given here, so setting the same one again can be skipped.
// A transaction not found here (or set by other means) is simply set again, which is always safe.
const tenantOfTransaction = new WeakMap<object, string>();

/**
 * Runs `fn` in a transaction whose `app.tenant_id` is `tenantId`, so every row-level-security
 * policy limits it to that tenant's rows. The setting is transaction-local: it cannot leak to the
 * next user of the pooled connection.
 */
export async function withTenant<DB, T>(
  db: Kysely<DB>,
  tenantId: string,
  fn: (trx: Transaction<DB>) => Promise<T>,
  locks: TransactionLocks = {},
): Promise<T> {
  return withTenantReading(db, tenantId, locks, undefined, (trx) => fn(trx));
}

/**
 * `withTenant` with locks, and one more expression read in the same statement after the locks
 * are granted: `fn` gets its value. For a read that must see what committed before the locks, the
 * expression must be a call to a VOLATILE function (its queries take their own snapshots; a plain
 * subquery would read the statement's snapshot, taken before it waited for the locks).
 */
export async function withTenantReading<DB, T, R>(
  db: Kysely<DB>,
  tenantId: string,
  locks: TransactionLocks,
  first: RawBuilder<R> | undefined,
  fn: (trx: Transaction<DB>, first: R | undefined) => Promise<T>,
): Promise<T> {
  if (!UUID.test(tenantId)) {
    throw new DatabaseError('INVALID_TENANT_ID', 'a tenant id is a UUID');
  }
  const shared = [...new Set(locks.shared ?? [])].sort();
  const exclusive = [...new Set(locks.exclusive ?? [])].sort();
  const tenant = tenantId.toLowerCase();
  return db.transaction().execute(async (trx) => {
    // One round trip: the tenant, then the locks, shared before exclusive, each kind in key order,
    // then `first`. Postgres evaluates a select list from left to right, so every transaction
    // that follows this order takes its locks in the same order, and `first` runs after them.
    const calls = [
      sql`set_config(${TENANT_SETTING}, ${tenant}, true)`,
      ...shared.map((key) => sql`pg_advisory_xact_lock_shared(${advisoryLockKey(key)})`),
      ...exclusive.map((key) => sql`pg_advisory_xact_lock(${advisoryLockKey(key)})`),
      ...(first === undefined ? [] : [sql`(${first}) as first`]),
    ];
    const { rows } = await sql<{ first?: R }>`select ${sql.join(calls)}`.execute(trx);
    tenantOfTransaction.set(trx, tenant);
    return fn(trx, rows[0]?.first);
  });
}

/**
 * Runs `work` (a whole transaction) again when Postgres broke a deadlock by failing it (40P01),
 * up to `attempts` times: for changes that must not be lost to a race they did not start.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const deadlock = (error as { code?: unknown }).code === '40P01';
      if (!deadlock || attempt >= attempts) throw error;
    }
  }
}

/**
 * Advisory locks a transaction takes as it starts and holds until it ends: what serialises work
 * across every replica of a service (two transactions holding the same key exclusively never run
 * at once; shared holders run together, but never beside an exclusive one). Keys are strings,
 * hashed to Postgres's 64-bit lock space (`advisoryLockKey`): a collision only serialises more than needed.
 */
export interface TransactionLocks {
  readonly shared?: readonly string[];
  readonly exclusive?: readonly string[];
}

/**
 * Switches an open transaction to another tenant (until it ends or switches again): for work that
 * spans tenants in one commit, such as the audit ingest writing a batch. Costs no round trip when
 * the transaction was already given this tenant by `withTenant`, `withSettings` or `useTenant`.
 */
export async function useTenant<DB>(trx: Transaction<DB>, tenantId: string): Promise<void> {
  if (!UUID.test(tenantId)) {
    throw new DatabaseError('INVALID_TENANT_ID', 'a tenant id is a UUID');
  }
  const tenant = tenantId.toLowerCase();
  if (tenantOfTransaction.get(trx) === tenant) return;
  await sql`select set_config(${TENANT_SETTING}, ${tenant}, true)`.execute(trx);
  tenantOfTransaction.set(trx, tenant);
}

const SETTING_NAME = /^app\.[a-z][a-z_]{0,62}$/;

/**
 * Runs `fn` in a transaction with the given `app.*` settings, all set in one statement and all
 * transaction-local. Row-level security policies read them: a tenant, a person, or the hash of a
 * secret the caller presented. An undefined value leaves the setting unset (so it matches nothing).
 */
export async function withSettings<DB, T>(
  db: Kysely<DB>,
  settings: Readonly<Record<string, string | undefined>>,
  fn: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  const entries = Object.entries(settings).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
  for (const [name, value] of entries) {
    if (!SETTING_NAME.test(name)) {
      throw new DatabaseError('INVALID_IDENTIFIER', `"${name}" is not an app.* setting name`);
    }
    if (name === TENANT_SETTING && !UUID.test(value)) {
      throw new DatabaseError('INVALID_TENANT_ID', 'a tenant id is a UUID');
    }
  }
  return db.transaction().execute(async (trx) => {
    if (entries.length > 0) {
      const calls = entries.map(
        ([name, value]) =>
          sql`set_config(${name}, ${name === TENANT_SETTING ? value.toLowerCase() : value}, true)`,
      );
      await sql`select ${sql.join(calls)}`.execute(trx);
      const tenant = settings[TENANT_SETTING];
      if (tenant !== undefined) tenantOfTransaction.set(trx, tenant.toLowerCase());
    }
    return fn(trx);
  });
}
