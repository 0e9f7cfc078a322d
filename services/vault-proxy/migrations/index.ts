import type { MigrationSet } from '@heroagent/db';

/**
 * The migrations of vault-proxy, by name. Each is frozen once merged: it takes `Kysely<any>` and never
 * imports application code. vault-proxy owns no table yet; connections arrive with the vault-proxy issue.
 */
export const migrations: MigrationSet = {};
