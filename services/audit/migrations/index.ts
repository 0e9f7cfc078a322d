import type { MigrationSet } from '@heroagent/db';

/**
 * The migrations of audit, by name. Each is frozen once merged: it takes `Kysely<any>` and never
 * imports application code. audit owns no table yet; the event store arrives with the audit issue.
 */
export const migrations: MigrationSet = {};
