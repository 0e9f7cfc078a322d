import { config, logger, telemetry } from './telemetry.js';
import { runService } from '@heroagent/service';
import { startGateway } from './gateway.js';

// A lost executor lease: stop at once, as if killed (what others now take this replica to be),
// and be started again under a new lease.
const onLeaseLost = () => {
  logger.flush();
  process.exit(1);
};

await runService(() => startGateway(config, logger, { onLeaseLost }), logger, telemetry);
