// The vault-proxy's migrate step: `node services/vault-proxy/dist/src/migrate.js`, run as the schema's owner
// (DATABASE_MIGRATION_URL) before the service starts; the service itself never migrates.
import { runMigrateStep } from '@heroagent/service';
import { migrations } from '../migrations/index.js';

await runMigrateStep({ service: 'vault-proxy', schema: 'vault_proxy', jobs: [], migrations });
