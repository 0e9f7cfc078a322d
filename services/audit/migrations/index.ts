import type { MigrationSet } from '@heroagent/db';
import * as createAuditStore from './20261125170000_create_audit_store.js';
import * as addActivitySearch from './20261126021500_add_activity_search.js';
import * as capQuarantine from './20261127090000_cap_quarantine.js';
import * as searchThroughDefinerFunction from './20261127100000_search_through_definer_function.js';
import * as numberCheckpoints from './20261206000000_number_checkpoints.js';
import * as deliverCheckpoints from './20261206001000_deliver_checkpoints.js';

/**
 * The audit service's migrations, by name. Each is frozen once merged: it takes `Kysely<any>` and
 * imports nothing of the application.
 */
export const migrations: MigrationSet = {
  '20261125170000_create_audit_store': createAuditStore,
  '20261126021500_add_activity_search': addActivitySearch,
  '20261127090000_cap_quarantine': capQuarantine,
  '20261127100000_search_through_definer_function': searchThroughDefinerFunction,
  '20261206000000_number_checkpoints': numberCheckpoints,
  '20261206001000_deliver_checkpoints': deliverCheckpoints,
};
