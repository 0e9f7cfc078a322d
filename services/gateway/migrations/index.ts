import type { MigrationSet } from '@heroagent/db';
import * as createPeople from './20261125200000_create_people.js';
import * as createTasks from './20261125210000_create_tasks.js';

/**
 * The gateway's migrations, by name. Each is frozen once merged: it takes `Kysely<any>` and never
 * imports application code.
 */
export const migrations: MigrationSet = {
  '20261125200000_create_people': createPeople,
  '20261125210000_create_tasks': createTasks,
};
