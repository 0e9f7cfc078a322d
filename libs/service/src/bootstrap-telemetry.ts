import type { ServiceName } from '@heroagent/contracts';
import { createLogger, startTelemetry, type Logger, type Telemetry } from '@heroagent/telemetry';
import type { TelemetryConfig } from './config.js';
import { PLATFORM_VERSION } from './version.js';

/**
 * Starts tracing, metrics and the logger for a service; the first thing its main.ts does. Each
 * OTLP endpoint configured sends its signal to the operator's collector; the log lines sent are
 * the ones written, redacted alike.
 */
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
    ...(config.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT === undefined
      ? {}
      : { otlpLogsEndpoint: config.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT }),
    ...(config.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT === undefined
      ? {}
      : { otlpMetricsEndpoint: config.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT }),
    metricExportIntervalMs: config.OTEL_METRIC_EXPORT_INTERVAL,
  });
  const logger = createLogger({
    service,
    level: config.LOG_LEVEL,
    otlp: config.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT !== undefined,
  });
  return { telemetry, logger };
}
