import { config, logger, telemetry } from './telemetry.js';
import { runService } from '@heroagent/service';
import { startGateway } from './gateway.js';

await runService(() => startGateway(config, logger), logger, telemetry);
