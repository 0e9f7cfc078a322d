import type { ServiceName } from '@heroagent/contracts';
import { createLogger, startTelemetry, type Logger, type Telemetry } from '@heroagent/telemetry';
import type { TelemetryConfig } from './config.js';
import { PLATFORM_VERSION } from './version.js';

/** Starts tracing and the logger for a service; the first thing its main.ts does. */
export function bootstrapTelemetry(
  service: ServiceName,
  config: TelemetryConfig,
): { telemetry: Telemetry; logger: Logger } {
  const telemetry = startTelemetry({
    serviceName: `heroagent-${service}`,
    serviceVersion: PLATFORM_VERSION,
    environment: config.HEROAGENT_ENV,
    ...(config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT === undefined
      ? {}
      : { otlpTracesEndpoint: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT }),
  });
  return { telemetry, logger: createLogger({ service, level: config.LOG_LEVEL }) };
}
