import type { MigrationSet } from '@heroagent/db';
import * as createConnections from './20261125190000_create_connections.js';
import * as createRevocations from './20261205233000_create_revocations.js';
import * as bindRevocationsToGrants from './20261206030000_bind_revocations_to_grants.js';

/**
 * The migrations of vault-proxy, by name. Each is frozen once merged: it takes `Kysely<any>` and
 * imports nothing of the application.
 */
export const migrations: MigrationSet = {
  '20261125190000_create_connections': createConnections,
  '20261205233000_create_revocations': createRevocations,
  '20261206030000_bind_revocations_to_grants': bindRevocationsToGrants,
};
