import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfigSchema, startAgent } from '@heroagent/agent';
import { auditConfigSchema, startAudit } from '@heroagent/audit';
import { gatewayConfigSchema, startGateway, type RunningGateway } from '@heroagent/gateway';
import type { RunningService } from '@heroagent/service';
import { createLogger, startTelemetry, type Telemetry } from '@heroagent/telemetry';
import { startVaultProxy, vaultProxyConfigSchema } from '@heroagent/vault-proxy';
import { startPlatformFixture, type PlatformFixture } from '../support/platform.js';

// The four real services in one process, each under its own NATS user (deploy/nats permissions)
// and its own Postgres role, traced with the SDK's in-memory exporter.
describe('the four services together', { timeout: 90_000 }, () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let platform: PlatformFixture;
  let gateway: RunningGateway;
  const services: RunningService[] = [];
  const running: Partial<Record<'audit' | 'vault-proxy' | 'agent', RunningService>> = {};

  beforeAll(async () => {
    telemetry = startTelemetry({
      serviceName: 'heroagent-platform-test',
      serviceVersion: '0.0.0',
      environment: 'test',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    platform = await startPlatformFixture();
    const logger = (service: string) => createLogger({ service, level: 'silent' });
    running.audit = await startAudit(
      auditConfigSchema.parse(platform.env('audit')),
      logger('audit'),
    );
    running['vault-proxy'] = await startVaultProxy(
      vaultProxyConfigSchema.parse(platform.env('vault-proxy')),
      logger('vault-proxy'),
    );
    running.agent = await startAgent(
      agentConfigSchema.parse(platform.env('agent')),
      logger('agent'),
    );
    services.push(running.audit, running['vault-proxy'], running.agent);
    gateway = await startGateway(
      gatewayConfigSchema.parse(platform.env('gateway')),
      logger('gateway'),
    );
  });

  async function auditStreamMessages(): Promise<number> {
    const provisioner = await platform.nats.connectAs('provisioner');
    try {
      const info = await provisioner.request('$JS.API.STREAM.INFO.AUDIT_EVENTS');
      return info.json<{ state: { messages: number } }>().state.messages;
    } finally {
      await provisioner.close();
    }
  }

  afterAll(async () => {
    await gateway?.close();
    for (const service of services.reverse()) await service.close();
    await platform?.stop();
    await telemetry?.shutdown();
  });

  it('is ready, and the gateway reaches every service under the production NATS permissions', async () => {
    const response = await fetch(`${gateway.url}/readyz`);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: { postgres: 'up', nats: 'up' },
      services: { gateway: 'ok', agent: 'ok', 'vault-proxy': 'ok', audit: 'ok' },
    });
    expect(response.status).toBe(200);
  });

  it('traces one readiness check from the HTTP request into every service', async () => {
    exporter.reset();
    await fetch(`${gateway.url}/readyz`);
    const spans = exporter.getFinishedSpans();
    const http = spans.find((span) => span.kind === SpanKind.SERVER && span.name === 'GET /readyz');
    expect(http).toBeDefined();
    const traceId = http!.spanContext().traceId;
    for (const [service, subject] of [
      ['agent', 'agent.health.get'],
      ['vault-proxy', 'vault.health.get'],
      ['audit', 'audit.health.get'],
    ] as const) {
      const client = spans.find(
        (span) =>
          span.kind === SpanKind.CLIENT &&
          span.attributes['messaging.destination.name'] === subject,
      );
      const server = spans.find(
        (span) => span.kind === SpanKind.SERVER && span.attributes['heroagent.service'] === service,
      );
      expect(client?.spanContext().traceId, service).toBe(traceId);
      expect(client?.parentSpanContext?.spanId, `${service} client parent`).toBe(
        http!.spanContext().spanId,
      );
      expect(server?.spanContext().traceId, service).toBe(traceId);
      expect(server?.parentSpanContext?.spanId, `${service} server parent`).toBe(
        client!.spanContext().spanId,
      );
    }
  });

  it('answers the agent’s user only in its inbox: a reply aimed anywhere else gets nothing, and is counted', async () => {
    // Whoever holds the agent's credentials may name any reply subject in a request.
    const attacker = await platform.nats.connectAs('agent');
    const targets = [
      'agent.tasks.start',
      'vault.tokens.issue',
      'audit.records.query',
      'audit.health.get',
      `audit.events.${randomUUID()}`,
      '$JS.API.STREAM.INFO.AUDIT_EVENTS',
      '_INBOX.gateway.x',
      '_INBOX.audit.x',
    ];
    const streamBefore = await auditStreamMessages();
    const refusedBefore = gateway.refusals.total('gateway.actions.execute');
    try {
      for (const reply of targets) attacker.publish('gateway.actions.execute', '{}', { reply });
      // Read in order: once this is answered, every request before it was handled.
      const answer = await attacker.request('gateway.actions.execute', '{}', { timeout: 5_000 });
      expect(answer.json<{ err: { code: string } }>().err.code).toBe('INVALID_REQUEST');
    } finally {
      await attacker.close();
    }
    expect(gateway.refusals.total('gateway.actions.execute')).toBe(refusedBefore + targets.length);
    // Nothing reached the services the replies named: none saw even a message without a reply.
    for (const service of ['agent', 'vault-proxy', 'audit'] as const)
      expect(running[service]!.refusals.total(), service).toBe(0);
    expect(await auditStreamMessages()).toBe(streamBefore);
  });

  it('gave each service its own schema, migrated by its owner role', async () => {
    const { createDatabase, sql } = await import('@heroagent/db');
    const admin = createDatabase<unknown>({
      connectionString: platform.database.adminUrl,
      applicationName: 'test',
    });
    try {
      const { rows } = await sql<{ schema: string; owner: string }>`
        select n.nspname as schema, pg_get_userbyid(c.relowner) as owner
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relname = 'migrations' order by 1`.execute(admin);
      expect(rows.map((row) => row.schema)).toEqual(['agent', 'audit', 'gateway', 'vault_proxy']);
      for (const row of rows) expect(row.owner).toMatch(new RegExp(`_${row.schema}_owner$`));
    } finally {
      await admin.destroy();
    }
  });
});
