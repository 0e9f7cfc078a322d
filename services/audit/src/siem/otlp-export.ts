import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtobufLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { CheckedEndpoint, DestinationGuard } from './destination-guard.js';

/**
 * Sends log records over OTLP/HTTP to an endpoint the guard checked, connecting only to the
 * addresses it was checked at (a fresh agent, shut down with the exporter). The exporter does not
 * follow redirects: a 3xx is a refusal.
 */
export async function exportLogRecords(
  guard: DestinationGuard,
  checked: CheckedEndpoint,
  send: {
    readonly encoding: 'json' | 'protobuf';
    readonly headers: Record<string, string>;
    readonly timeoutMs: number;
    readonly records: ReadableLogRecord[];
  },
): Promise<{ delivered: boolean; error?: string }> {
  const config = {
    url: checked.url.href,
    headers: send.headers,
    timeoutMillis: send.timeoutMs,
    httpAgentOptions: { keepAlive: false, lookup: guard.lookupFor(checked) },
  };
  const exporter =
    send.encoding === 'json' ? new JsonLogExporter(config) : new ProtobufLogExporter(config);
  try {
    const result = await new Promise<ExportResult>((resolve) =>
      exporter.export(send.records, resolve),
    );
    return result.code === ExportResultCode.SUCCESS
      ? { delivered: true }
      : { delivered: false, error: result.error?.message ?? 'the receiver refused the records' };
  } finally {
    await exporter.shutdown();
  }
}
