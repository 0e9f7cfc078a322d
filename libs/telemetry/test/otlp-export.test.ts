import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiverDouble } from '@heroagent/doubles';
import { createLogger, heroagentCounter, REDACTED, startTelemetry } from '../src/index.js';

const accessToken = 'ya29.a0AfB_byC-secret-access-token-value';
const refreshToken = '1//0gSecretRefreshTokenValue-abcdefgh';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe("a service's own logs and metrics over OTLP (receiver double)", () => {
  let receiver: OtlpReceiverDouble;

  beforeAll(async () => {
    receiver = await OtlpReceiverDouble.start();
  });
  afterAll(() => receiver?.close());

  it('sends each log line, redacted as written and in its trace, and the meter’s metrics', async () => {
    const telemetry = startTelemetry({
      serviceName: 'heroagent-test',
      serviceVersion: '1.2.3',
      environment: 'test',
      otlpLogsEndpoint: receiver.url,
      otlpMetricsEndpoint: receiver.metricsUrl,
    });
    const { lines, destination } = capture();
    const logger = createLogger({ service: 'test', level: 'info', destination, otlp: true });
    const span = trace.getTracer('test').startSpan('refresh');
    const ids = span.spanContext();
    trace.getTracer('test').startActiveSpan('refresh', (active) => {
      logger.warn(
        {
          refreshToken,
          user: { id: 'user-1' },
          headers: { authorization: `Bearer ${accessToken}` },
          attempts: 2,
        },
        `refreshed with ${accessToken}`,
      );
      Object.assign(ids, active.spanContext());
      active.end();
    });
    span.end();
    logger.debug('below the level: never written, never sent');
    heroagentCounter('heroagent.test.refreshes', 'refreshes, for the test').add(3, {
      outcome: 'ok',
    });
    await telemetry.shutdown();

    expect(receiver.records).toHaveLength(1);
    const [record] = receiver.records;
    expect(record).toMatchObject({
      body: `refreshed with ${REDACTED}`,
      severityText: 'WARN',
      severityNumber: 13,
      traceId: ids.traceId,
      spanId: ids.spanId,
      resource: { 'service.name': 'heroagent-test', 'service.version': '1.2.3' },
      attributes: {
        service: 'test',
        'user.id': 'user-1',
        refreshToken: REDACTED,
        'headers.authorization': REDACTED,
        attempts: 2,
      },
    });
    // Exactly what the line said, no more: the same redaction for both.
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: record!.body, trace_id: ids.traceId, span_id: ids.spanId });
    const sent = JSON.stringify(receiver.exports);
    expect(sent).not.toContain(accessToken);
    expect(sent).not.toContain(refreshToken);

    const counted = receiver.metrics.find((metric) => metric.name === 'heroagent.test.refreshes');
    expect(counted).toMatchObject({
      resource: { 'service.name': 'heroagent-test' },
      scope: 'heroagent',
      points: [{ attributes: { outcome: 'ok' }, value: 3 }],
    });
  });

  it('sends nothing when no endpoint is configured, even with OpenTelemetry’s own variables set', async () => {
    const before = receiver.requests.length;
    const base = receiver.url.replace('/v1/logs', '');
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = base;
    try {
      const telemetry = startTelemetry({
        serviceName: 'heroagent-test',
        serviceVersion: '1.2.3',
        environment: 'test',
      });
      const { lines, destination } = capture();
      createLogger({ service: 'test', level: 'info', destination, otlp: true }).info('kept here');
      heroagentCounter('heroagent.test.unsent', 'never exported').add(1);
      await telemetry.shutdown();
      expect(lines).toHaveLength(1);
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    }
    // Not a single request: OpenTelemetry's defaults (export to OTEL_EXPORTER_OTLP_ENDPOINT) are off.
    expect(receiver.requests.slice(before)).toEqual([]);
  });
});
