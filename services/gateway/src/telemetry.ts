// The first module main.ts imports: configuration is validated and tracing started before Nest,
// Express or any client library is loaded.
import { bootstrapTelemetry } from '@heroagent/service';
import { loadGatewayConfig } from './config.js';

export const config = loadGatewayConfig();
export const { telemetry, logger } = bootstrapTelemetry('gateway', config.telemetry);
