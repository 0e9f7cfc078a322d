import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

/**
 * A test double of an OTLP/HTTP logs receiver (an OpenTelemetry Collector or a SIEM's OTLP
 * endpoint), following the OTLP specification: `POST /v1/logs` with an ExportLogsServiceRequest as
 * `application/json` or `application/x-protobuf`, answered 200 with an empty
 * ExportLogsServiceResponse in the same encoding. It records what arrives, and can refuse
 * (503) or be down, so retries can be tested. It also takes `POST /v1/metrics` with an
 * ExportMetricsServiceRequest as `application/json` (what the OTLP/HTTP JSON exporter sends).
 */

/** A log record as received, with OTLP values turned into plain JavaScript values. */
export interface ReceivedLogRecord {
  readonly eventName: string | undefined;
  readonly timeUnixNano: string;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: unknown;
  readonly attributes: Record<string, unknown>;
  readonly resource: Record<string, unknown>;
  readonly scope: { name: string; version: string };
  /** The record's trace and span ids, as lowercase hex; undefined when absent (empty). */
  readonly traceId: string | undefined;
  readonly spanId: string | undefined;
}

/** One data point of a metric as received: its attributes and its value (sums and gauges). */
export interface ReceivedMetric {
  readonly name: string;
  readonly resource: Record<string, unknown>;
  readonly scope: string;
  readonly points: { attributes: Record<string, unknown>; value: number | undefined }[];
}

/** One export request as received. */
export interface ReceivedExport {
  readonly encoding: 'json' | 'protobuf';
  readonly headers: IncomingHttpHeaders;
  readonly records: ReceivedLogRecord[];
}

// The OTLP logs messages (opentelemetry-proto: collector/logs/v1, logs/v1, common/v1, resource/v1).
const root = protobuf.Root.fromJSON({
  nested: {
    otlp: {
      nested: {
        ExportLogsServiceRequest: {
          fields: { resourceLogs: { rule: 'repeated', type: 'ResourceLogs', id: 1 } },
        },
        ResourceLogs: {
          fields: {
            resource: { type: 'Resource', id: 1 },
            scopeLogs: { rule: 'repeated', type: 'ScopeLogs', id: 2 },
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        ScopeLogs: {
          fields: {
            scope: { type: 'InstrumentationScope', id: 1 },
            logRecords: { rule: 'repeated', type: 'LogRecord', id: 2 },
            schemaUrl: { type: 'string', id: 3 },
          },
        },
        LogRecord: {
          fields: {
            timeUnixNano: { type: 'fixed64', id: 1 },
            observedTimeUnixNano: { type: 'fixed64', id: 11 },
            severityNumber: { type: 'int32', id: 2 },
            severityText: { type: 'string', id: 3 },
            body: { type: 'AnyValue', id: 5 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 6 },
            droppedAttributesCount: { type: 'uint32', id: 7 },
            flags: { type: 'fixed32', id: 8 },
            traceId: { type: 'bytes', id: 9 },
            spanId: { type: 'bytes', id: 10 },
            eventName: { type: 'string', id: 12 },
          },
        },
        Resource: {
          fields: {
            attributes: { rule: 'repeated', type: 'KeyValue', id: 1 },
            droppedAttributesCount: { type: 'uint32', id: 2 },
          },
        },
        InstrumentationScope: {
          fields: {
            name: { type: 'string', id: 1 },
            version: { type: 'string', id: 2 },
            attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
            droppedAttributesCount: { type: 'uint32', id: 4 },
          },
        },
        AnyValue: {
          oneofs: {
            value: {
              oneof: [
                'stringValue',
                'boolValue',
                'intValue',
                'doubleValue',
                'arrayValue',
                'kvlistValue',
                'bytesValue',
              ],
            },
          },
          fields: {
            stringValue: { type: 'string', id: 1 },
            boolValue: { type: 'bool', id: 2 },
            intValue: { type: 'int64', id: 3 },
            doubleValue: { type: 'double', id: 4 },
            arrayValue: { type: 'ArrayValue', id: 5 },
            kvlistValue: { type: 'KeyValueList', id: 6 },
            bytesValue: { type: 'bytes', id: 7 },
          },
        },
        ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
        KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
        KeyValue: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } },
        },
      },
    },
  },
});
const ExportLogsServiceRequest = root.lookupType('otlp.ExportLogsServiceRequest');

type OtlpAnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
};
type OtlpKeyValue = { key: string; value?: OtlpAnyValue };
type OtlpRequest = {
  resourceLogs?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeLogs?: {
      scope?: { name?: string; version?: string };
      logRecords?: {
        timeUnixNano?: string | number;
        severityNumber?: number;
        severityText?: string;
        body?: OtlpAnyValue;
        attributes?: OtlpKeyValue[];
        eventName?: string;
        traceId?: string;
        spanId?: string;
      }[];
    }[];
  }[];
};

function plain(value: OtlpAnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(plain);
  if (value.kvlistValue !== undefined) return attributes(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}

function attributes(values: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((values ?? []).map((entry) => [entry.key, plain(entry.value)]));
}

// OTLP/JSON carries trace and span ids as hex; protobuf as bytes (decoded here as base64).
function hexId(value: string | undefined, encoding: 'json' | 'protobuf'): string | undefined {
  if (value === undefined || value === '') return undefined;
  return encoding === 'json' ? value.toLowerCase() : Buffer.from(value, 'base64').toString('hex');
}

type OtlpNumberPoint = { attributes?: OtlpKeyValue[]; asInt?: string | number; asDouble?: number };
type OtlpMetricsRequest = {
  resourceMetrics?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeMetrics?: {
      scope?: { name?: string };
      metrics?: {
        name?: string;
        sum?: { dataPoints?: OtlpNumberPoint[] };
        gauge?: { dataPoints?: OtlpNumberPoint[] };
      }[];
    }[];
  }[];
};

function metrics(request: OtlpMetricsRequest): ReceivedMetric[] {
  return (request.resourceMetrics ?? []).flatMap((resourceMetrics) =>
    (resourceMetrics.scopeMetrics ?? []).flatMap((scopeMetrics) =>
      (scopeMetrics.metrics ?? []).map((metric) => ({
        name: metric.name ?? '',
        resource: attributes(resourceMetrics.resource?.attributes),
        scope: scopeMetrics.scope?.name ?? '',
        points: (metric.sum?.dataPoints ?? metric.gauge?.dataPoints ?? []).map((point) => ({
          attributes: attributes(point.attributes),
          value:
            point.asInt !== undefined
              ? Number(point.asInt)
              : point.asDouble !== undefined
                ? point.asDouble
                : undefined,
        })),
      })),
    ),
  );
}

function records(request: OtlpRequest, encoding: 'json' | 'protobuf'): ReceivedLogRecord[] {
  return (request.resourceLogs ?? []).flatMap((resourceLogs) =>
    (resourceLogs.scopeLogs ?? []).flatMap((scopeLogs) =>
      (scopeLogs.logRecords ?? []).map((record) => ({
        eventName: record.eventName === '' ? undefined : record.eventName,
        timeUnixNano: String(record.timeUnixNano ?? '0'),
        severityNumber: record.severityNumber ?? 0,
        severityText: record.severityText ?? '',
        body: plain(record.body),
        attributes: attributes(record.attributes),
        resource: attributes(resourceLogs.resource?.attributes),
        scope: { name: scopeLogs.scope?.name ?? '', version: scopeLogs.scope?.version ?? '' },
        traceId: hexId(record.traceId, encoding),
        spanId: hexId(record.spanId, encoding),
      })),
    ),
  );
}

export class OtlpReceiverDouble {
  readonly exports: ReceivedExport[] = [];
  /** Every metric export's metrics, in arrival order. */
  readonly metrics: ReceivedMetric[] = [];
  /** Every request that arrived, accepted or not: its path and content type. */
  readonly requests: { path: string; contentType: string }[] = [];
  private refusals = 0;
  private server: Server;
  private port = 0;

  private constructor() {
    this.server = this.createServer();
  }

  static async start(): Promise<OtlpReceiverDouble> {
    const double = new OtlpReceiverDouble();
    await double.up();
    return double;
  }

  /** The logs endpoint, as a SIEM destination is configured with it. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/logs`;
  }

  /** The metrics endpoint, as OTEL_EXPORTER_OTLP_METRICS_ENDPOINT names it. */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.port}/v1/metrics`;
  }

  /** Every record received so far, in arrival order. */
  get records(): ReceivedLogRecord[] {
    return this.exports.flatMap((received) => received.records);
  }

  /** The next `count` requests are answered 503 Service Unavailable. */
  refuseNext(count: number): void {
    this.refusals = count;
  }

  /** Stops listening: exporters see the connection refused. */
  async down(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.server = this.createServer();
  }

  /** Listens again, on the same port when it was up before. */
  async up(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.down();
  }

  private createServer(): Server {
    return createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({
          path: request.url ?? '',
          contentType: request.headers['content-type'] ?? '',
        });
        const metricsRequest = request.url === '/v1/metrics';
        if (request.method !== 'POST' || (request.url !== '/v1/logs' && !metricsRequest)) {
          response.writeHead(404).end();
          return;
        }
        if (this.refusals > 0) {
          this.refusals -= 1;
          response
            .writeHead(503, { 'content-type': 'application/json' })
            .end(JSON.stringify({ code: 14, message: 'unavailable' }));
          return;
        }
        const body = Buffer.concat(chunks);
        const type = request.headers['content-type'] ?? '';
        if (metricsRequest) {
          if (!type.startsWith('application/json')) {
            response.writeHead(415).end();
            return;
          }
          this.metrics.push(...metrics(JSON.parse(body.toString('utf8')) as OtlpMetricsRequest));
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else if (type.startsWith('application/x-protobuf')) {
          const decoded = ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(body), {
            longs: String,
            bytes: String,
          }) as OtlpRequest;
          this.exports.push({
            encoding: 'protobuf',
            headers: request.headers,
            records: records(decoded, 'protobuf'),
          });
          response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        } else if (type.startsWith('application/json')) {
          this.exports.push({
            encoding: 'json',
            headers: request.headers,
            records: records(JSON.parse(body.toString('utf8')) as OtlpRequest, 'json'),
          });
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          response.writeHead(415).end();
        }
      });
    });
  }
}
