import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiverDouble } from '@heroagent/doubles';
import { REDACTED } from '@heroagent/telemetry';
import { bootstrapTelemetry } from './bootstrap-telemetry.js';
import { RefusedRequests } from './nats/refused-requests.js';
import { PLATFORM_VERSION } from './version.js';

describe('a service started with OTLP logs and metrics endpoints (receiver double)', () => {
  let receiver: OtlpReceiverDouble;

  beforeAll(async () => {
    receiver = await OtlpReceiverDouble.start();
  });
  afterAll(() => receiver?.close());

  it('sends its warnings and its counters to the collector, secrets redacted', async () => {
    const { telemetry, logger } = bootstrapTelemetry('gateway', {
      HEROAGENT_ENV: 'test',
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.metricsUrl,
      OTEL_METRIC_EXPORT_INTERVAL: 60_000,
    });
    // A caller floods a request with a reply subject that carries a token-shaped value.
    const refused = new RefusedRequests('gateway', logger);
    const reply = '_INBOX.ya29.a0AfB_byC-secret-access-token-value';
    for (let index = 0; index < 3; index += 1) {
      refused.count('gateway.actions.execute', 'REPLY_OUTSIDE_CALLER_INBOX', reply);
    }
    await telemetry.shutdown();

    const warnings = receiver.records.filter(
      (record) => record.attributes.code === 'NATS_REQUEST_REFUSED',
    );
    // The refusal's own bound holds: one warning a minute, over OTLP as on standard output.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      severityText: 'WARN',
      resource: { 'service.name': 'heroagent-gateway', 'service.version': PLATFORM_VERSION },
      attributes: { service: 'gateway', reply: `_INBOX.${REDACTED}` },
    });
    expect(JSON.stringify(receiver.exports)).not.toContain('secret-access-token');
    expect(
      receiver.metrics.find((metric) => metric.name === 'heroagent.nats.requests_refused'),
    ).toMatchObject({
      resource: { 'service.name': 'heroagent-gateway' },
      points: [
        {
          attributes: {
            'heroagent.service': 'gateway',
            subject: 'gateway.actions.execute',
            reason: 'REPLY_OUTSIDE_CALLER_INBOX',
          },
          value: 3,
        },
      ],
    });
  });
});
