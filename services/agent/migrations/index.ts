import type { MigrationSet } from '@heroagent/db';

/**
 * The agent's migrations, by name. Each is frozen once merged: it takes `Kysely<any>` and never
 * imports application code. The agent owns no table yet; task state arrives with the agent issue.
 */
export const migrations: MigrationSet = {};
