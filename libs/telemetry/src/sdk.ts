import { context, logs, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_DEPLOYMENT_ENVIRONMENT_NAME,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';

/** How a service reports its traces, logs and metrics. */
export interface TelemetryOptions {
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly environment: string;
  /** OTLP/HTTP traces endpoint (e.g. `http://collector:4318/v1/traces`); none means no export. */
  readonly otlpTracesEndpoint?: string;
  /**
   * OTLP/HTTP logs endpoint (`…/v1/logs`): log records emitted through the Logs API (the
   * service's log lines, when its logger has `otlp`) are exported there. None means none are.
   */
  readonly otlpLogsEndpoint?: string;
  /** OTLP/HTTP metrics endpoint (`…/v1/metrics`): HeroAgent's meter exported there. */
  readonly otlpMetricsEndpoint?: string;
  /** How often metrics are exported, in milliseconds (OpenTelemetry's default: a minute). */
  readonly metricExportIntervalMs?: number;
  /** Extra processors, e.g. an in-memory exporter in tests. */
  readonly spanProcessors?: readonly SpanProcessor[];
}

/** A running OpenTelemetry SDK. */
export interface Telemetry {
  /** Flushes pending spans and stops the SDK; call once, at shutdown. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK: W3C trace context and baggage propagation, async context
 * tracking, and OTLP/HTTP export of traces, logs and metrics, each when its endpoint is configured. Call it from the first module a
 * service's `main.ts` imports, before Nest or any client library is loaded.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpTracesEndpoint !== undefined) {
    processors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: options.otlpTracesEndpoint }),
      }),
    );
  }
  // Without an exporter spans are still made, so trace ids reach logs and audit events and travel
  // between services; they are just not exported.
  if (processors.length === 0) processors.push(new NoopSpanProcessor());
  // Explicit, even when empty: otherwise the SDK would read OTEL_* itself and export to a default
  // localhost collector nobody configured.
  const logRecordProcessors =
    options.otlpLogsEndpoint === undefined
      ? []
      : [
          new BatchLogRecordProcessor({
            exporter: new OTLPLogExporter({ url: options.otlpLogsEndpoint }),
          }),
        ];
  const metricReaders =
    options.otlpMetricsEndpoint === undefined
      ? []
      : [
          new PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter({ url: options.otlpMetricsEndpoint }),
            exportIntervalMillis: options.metricExportIntervalMs ?? 60_000,
          }),
        ];
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.serviceVersion,
      [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: options.environment,
    }),
    autoDetectResources: false,
    contextManager: new AsyncLocalStorageContextManager(),
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    spanProcessors: processors,
    logRecordProcessors,
    metricReaders,
    instrumentations: [],
  });
  sdk.start();
  return {
    async shutdown() {
      await sdk.shutdown();
      // Leave the process as it was, so a test can start the SDK again.
      trace.disable();
      context.disable();
      propagation.disable();
      logs.disable();
      metrics.disable();
    },
  };
}
