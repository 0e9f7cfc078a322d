// The first module main.ts imports: configuration is validated and tracing started before Nest or
// any client library is loaded.
import { bootstrapTelemetry } from '@heroagent/service';
import { loadAuditConfig } from './config.js';

export const config = loadAuditConfig();
export const { telemetry, logger } = bootstrapTelemetry('audit', config.telemetry);
