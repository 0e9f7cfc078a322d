import { SpanKind, context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeTraceId,
  extractTraceContext,
  injectTraceContext,
  withNatsSpan,
} from './propagation.js';
import { startTelemetry, type Telemetry } from './sdk.js';

class Headers {
  readonly values = new Map<string, string>();
  get(key: string) {
    return this.values.get(key) ?? '';
  }
  set(key: string, value: string) {
    this.values.set(key, value);
  }
}

describe('trace context over message headers', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  beforeAll(() => {
    telemetry = startTelemetry({
      serviceName: 'test',
      serviceVersion: '0.0.0',
      environment: 'test',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
  });
  afterAll(() => telemetry.shutdown());

  it('continues the sender trace on the receiving side', async () => {
    const headers = new Headers();
    await withNatsSpan({ kind: 'client', subject: 'agent.health.get', service: 'gateway' }, () => {
      injectTraceContext(headers);
      expect(activeTraceId()).toMatch(/^[0-9a-f]{32}$/);
      return Promise.resolve();
    });
    expect(headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    await withNatsSpan(
      {
        kind: 'server',
        subject: 'agent.health.get',
        service: 'agent',
        parent: extractTraceContext(headers),
      },
      () => Promise.resolve(),
    );
    const [client, server] = exporter.getFinishedSpans();
    expect(client?.kind).toBe(SpanKind.CLIENT);
    expect(server?.kind).toBe(SpanKind.SERVER);
    expect(server?.spanContext().traceId).toBe(client?.spanContext().traceId);
    expect(server?.parentSpanContext?.spanId).toBe(client?.spanContext().spanId);
    expect(server?.attributes['messaging.destination.name']).toBe('agent.health.get');
  });

  it('starts a new trace when headers are absent or forged', () => {
    exporter.reset();
    const forged = new Headers();
    forged.set('traceparent', 'not-a-traceparent');
    for (const carrier of [undefined, forged]) {
      const parent = extractTraceContext(carrier);
      expect(trace.getSpanContext(parent)).toBeUndefined();
    }
    expect(trace.getSpan(context.active())).toBeUndefined();
  });

  it('marks the span as failed with the error code when the work throws', async () => {
    exporter.reset();
    const failure = Object.assign(new Error('nope'), { code: 'POLICY_DENIED' });
    await expect(
      withNatsSpan({ kind: 'server', subject: 'gateway.actions.execute', service: 'gateway' }, () =>
        Promise.reject(failure),
      ),
    ).rejects.toBe(failure);
    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes['error.type']).toBe('POLICY_DENIED');
    expect(span?.status.code).toBe(2);
  });
});
