import { config, logger, telemetry } from './telemetry.js';
import { runService } from '@heroagent/service';
import { startAgent } from './agent.js';

await runService(() => startAgent(config, logger), logger, telemetry);
