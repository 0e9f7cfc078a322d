// The first module main.ts imports: configuration is validated and tracing started before Nest or
// any client library is loaded.
import { bootstrapTelemetry } from '@heroagent/service';
import { loadVaultProxyConfig } from './config.js';

export const config = loadVaultProxyConfig();
export const { telemetry, logger } = bootstrapTelemetry('vault-proxy', config.telemetry);
