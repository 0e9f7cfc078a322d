import type { MigrationSet } from '@heroagent/db';

/**
 * The gateway's migrations, by name. Each is frozen once merged: it takes `Kysely<any>` and never
 * imports application code. The gateway owns no table yet; sessions and tenants arrive with
 * gateway part 1.
 */
export const migrations: MigrationSet = {};
