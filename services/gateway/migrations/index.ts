import type { MigrationSet } from '@heroagent/db';
import * as createPeople from './20261125200000_create_people.js';

/**
 * The gateway's migrations, by name. Each is frozen once merged: it takes `Kysely<any>` and never
 * imports application code.
 */
export const migrations: MigrationSet = {
  '20261125200000_create_people': createPeople,
};
