// The gateway's migrate step: `node services/gateway/dist/src/migrate.js`, run as the schema's owner
// (DATABASE_MIGRATION_URL) before the service starts; the service itself never migrates.
import { runMigrateStep } from '@heroagent/service';
import { migrations } from '../migrations/index.js';
import { GATEWAY_JOBS } from './config.js';

await runMigrateStep({ service: 'gateway', schema: 'gateway', jobs: GATEWAY_JOBS, migrations });
