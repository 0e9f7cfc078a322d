// The first module main.ts imports: configuration is validated and tracing started before Nest or
// any client library is loaded.
import { bootstrapTelemetry } from '@heroagent/service';
import { loadAgentConfig } from './config.js';

export const config = loadAgentConfig();
export const { telemetry, logger } = bootstrapTelemetry('agent', config.telemetry);
