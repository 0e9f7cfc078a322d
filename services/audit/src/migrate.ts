// The audit's migrate step: `node services/audit/dist/src/migrate.js`, run as the schema's owner
// (DATABASE_MIGRATION_URL) before the service starts; the service itself never migrates.
import { runMigrateStep } from '@heroagent/service';
import { migrations } from '../migrations/index.js';

await runMigrateStep({ service: 'audit', schema: 'audit', jobs: [], migrations });
