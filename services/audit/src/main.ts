import { config, logger, telemetry } from './telemetry.js';
import { runService } from '@heroagent/service';
import { startAudit } from './audit.js';

await runService(() => startAudit(config, logger), logger, telemetry);
