import { config, logger, telemetry } from './telemetry.js';
import { runService } from '@heroagent/service';
import { startVaultProxy } from './vault-proxy.js';

await runService(() => startVaultProxy(config, logger), logger, telemetry);
