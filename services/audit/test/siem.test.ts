import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configureSiemDestination,
  listSiemDestinations,
  removeSiemDestination,
  testSiemDestination,
  type SignedAuditEvent,
} from '@heroagent/contracts';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { startAudit } from '../src/audit.js';
import { auditConfigSchema } from '../src/config.js';
import { OtlpReceiverDouble } from '@heroagent/doubles';
import { startAuditFixture, viewer, type AuditFixture } from './fixture.js';
import { ocsfProblems } from './ocsf/validate.js';

async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('SIEM streaming over OTLP/HTTP logs (receiver double)', { timeout: 90_000 }, () => {
  let fixture: AuditFixture;
  let audit: RunningService;
  let json: OtlpReceiverDouble;
  let protobuf: OtlpReceiverDouble;
  const tenant = randomUUID();
  const other = randomUUID();
  const sent: SignedAuditEvent[] = [];
  const config = () =>
    auditConfigSchema.parse(
      fixture.env({
        AUDIT_SIEM_POLL_MS: '100',
        AUDIT_SIEM_TIMEOUT_MS: '800',
        AUDIT_SIEM_ALLOW_PRIVATE_NETWORKS: 'true',
        AUDIT_SIEM_BATCH: '7',
      }),
    );
  const start = () =>
    startAudit(
      config(),
      createLogger({ service: 'audit', level: (process.env.AUDIT_TEST_LOG ?? 'silent') as 'info' }),
    );
  const publish = async (envelope: SignedAuditEvent) => {
    sent.push(envelope);
    await fixture.publish(envelope);
  };
  // Signed checkpoints follow the events they cover (checkpoint-delivery.test.ts); here, events.
  const events = (receiver: OtlpReceiverDouble) =>
    receiver.records.filter((record) => record.eventName !== 'heroagent.audit.checkpoint');
  const ids = (receiver: OtlpReceiverDouble) =>
    events(receiver).map((record) => record.attributes['heroagent.event.id']);
  const ofTenant = () =>
    sent
      .filter((envelope) => envelope.event.tenantId === tenant)
      .map((envelope) => envelope.event.id);

  beforeAll(async () => {
    fixture = await startAuditFixture();
    json = await OtlpReceiverDouble.start();
    protobuf = await OtlpReceiverDouble.start();
    audit = await start();
  });

  afterAll(async () => {
    await audit?.close();
    await json?.close();
    await protobuf?.close();
    await fixture?.close();
  });

  it('keeps destination headers secret: only their names are ever shown', async () => {
    const created = await fixture.client.request(configureSiemDestination, {
      viewer: viewer(tenant, 'admin'),
      name: 'Collector (JSON)',
      endpoint: json.url,
      encoding: 'json',
      headers: { Authorization: 'Bearer siem-secret-token' },
    });
    await fixture.client.request(configureSiemDestination, {
      viewer: viewer(tenant, 'owner'),
      name: 'SIEM (protobuf)',
      endpoint: protobuf.url,
      encoding: 'protobuf',
      headers: { 'X-Api-Key': 'another-secret' },
    });
    expect(created).toMatchObject({
      headerNames: ['Authorization'],
      enabled: true,
      exportedThroughSeq: 0,
    });
    const listed = await fixture.client.request(listSiemDestinations, {
      viewer: viewer(tenant, 'auditor'),
    });
    expect(listed.destinations).toHaveLength(2);
    expect(JSON.stringify(listed)).not.toMatch(/siem-secret-token|another-secret/);
    const { rows } = await (
      await import('@heroagent/db')
    ).sql<{ headers_ciphertext: string }>`
      select headers_ciphertext from audit.siem_destinations`.execute(fixture.admin);
    expect(
      rows.every(
        (row) =>
          row.headers_ciphertext.startsWith('hae1.') && !row.headers_ciphertext.includes('secret'),
      ),
    ).toBe(true);
  });

  it('lets only owners and admins change destinations', async () => {
    for (const role of ['auditor', 'member'] as const) {
      await expect(
        fixture.client.request(configureSiemDestination, {
          viewer: viewer(tenant, role),
          name: 'x',
          endpoint: json.url,
        }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    await expect(
      fixture.client.request(listSiemDestinations, { viewer: viewer(tenant, 'member') }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      fixture.client.request(removeSiemDestination, {
        viewer: viewer(other, 'admin'),
        id: randomUUID(),
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('streams every event of the tenant, in order, in both encodings, with OTel and OCSF attributes', async () => {
    const agentTask = randomUUID();
    for (let index = 0; index < 10; index += 1) {
      await publish(signedTestEvent(fixture.gatewayKey, tenant, { taskId: agentTask }));
      await publish(signedTestEvent(fixture.gatewayKey, other));
    }
    await publish(
      signedTestEvent(fixture.gatewayKey, tenant, {
        name: 'session.started',
        action: undefined,
        actor: { type: 'user', id: 'u' },
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        client: { ip: '2001:db8::7', userAgent: 'Mozilla/5.0 Firefox/140.0' },
      }),
    );
    await publish(
      signedTestEvent(fixture.gatewayKey, tenant, {
        name: 'connection.revoked',
        action: undefined,
        actor: { type: 'user', id: 'u' },
      }),
    );
    await until(() => events(json).length >= 12 && events(protobuf).length >= 12);
    expect(ids(json)).toEqual(ofTenant());
    expect(ids(protobuf)).toEqual(ofTenant());
    expect(
      json.exports.every(
        (received) => received.headers.authorization === 'Bearer siem-secret-token',
      ),
    ).toBe(true);
    expect(
      protobuf.exports.every((received) => received.headers['x-api-key'] === 'another-secret'),
    ).toBe(true);

    for (const receiver of [json, protobuf]) {
      const [action, signIn, revoke] = [
        events(receiver)[0]!,
        events(receiver)[10]!,
        events(receiver)[11]!,
      ];
      const first = sent[0]!.event;
      expect(action.eventName).toBe('heroagent.action.executed');
      expect(action.attributes).toMatchObject({
        'user.id': first.userId,
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'calendar.events.create',
        'gen_ai.agent.name': 'heroagent',
        'gen_ai.conversation.id': agentTask,
        'heroagent.tenant.id': tenant,
        'heroagent.audit.seq': 1,
      });
      expect(action.body).toMatchObject({
        class_uid: 6003,
        category_uid: 6,
        activity_id: 1,
        type_uid: 600301,
        status_id: 1,
        api: { operation: 'calendar.events.create', service: { name: 'heroagent-gateway' } },
        metadata: { uid: first.id, version: '1.8.0', product: { name: 'HeroAgent' } },
      });
      expect(signIn.body).toMatchObject({
        class_uid: 3002,
        activity_id: 1,
        type_uid: 300201,
        src_endpoint: { ip: '2001:db8::7' },
        http_request: { user_agent: 'Mozilla/5.0 Firefox/140.0' },
        metadata: { correlation_uid: '4bf92f3577b34da6a3ce929d0e0e4736' },
      });
      expect(signIn.attributes).toMatchObject({
        'client.address': '2001:db8::7',
        'user_agent.original': 'Mozilla/5.0 Firefox/140.0',
      });
      // The OTLP record's own trace context is the event's trace (the event keeps no span id).
      expect([signIn.traceId, signIn.spanId]).toEqual([
        '4bf92f3577b34da6a3ce929d0e0e4736',
        undefined,
      ]);
      expect(action.traceId).toBe(undefined);
      // What arrived, after the round trip through OTLP, is valid OCSF (every event; the signed
      // checkpoints that follow them keep their own form, docs/audit-integrity.md).
      for (const received of events(receiver)) {
        expect(ocsfProblems(received.body as Record<string, unknown>)).toEqual([]);
      }
      expect(revoke.body).toMatchObject({ class_uid: 3005, activity_id: 2, type_uid: 300502 });
      expect(action.resource).toMatchObject({ 'service.name': 'heroagent-audit' });
      expect(action.scope.name).toBe('heroagent.audit');
    }
    // Batches of 7: the cursor advanced in steps, and no record of the other tenant went out.
    expect(json.exports.length).toBeGreaterThanOrEqual(2);
    expect(json.records.some((record) => record.attributes['heroagent.tenant.id'] === other)).toBe(
      false,
    );
  });

  it('retries with backoff while the receiver is down, then delivers each event once', async () => {
    await json.down();
    protobuf.refuseNext(3);
    for (let index = 0; index < 5; index += 1)
      await publish(signedTestEvent(fixture.gatewayKey, tenant));
    await until(async () => {
      const { destinations } = await fixture.client.request(listSiemDestinations, {
        viewer: viewer(tenant),
      });
      return destinations.some(
        (destination) => destination.endpoint === json.url && destination.lastError !== undefined,
      );
    });
    await json.up();
    await until(() => events(json).length >= 17 && events(protobuf).length >= 17, 30_000);
    expect(ids(json)).toEqual(ofTenant());
    expect(ids(protobuf)).toEqual(ofTenant());
  });

  it('resumes from its cursor after a restart: nothing lost, nothing resent', async () => {
    await audit.close();
    for (let index = 0; index < 3; index += 1)
      await publish(signedTestEvent(fixture.gatewayKey, tenant));
    audit = await start();
    await until(() => events(json).length >= 20 && events(protobuf).length >= 20, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ids(json)).toEqual(ofTenant());
    expect(ids(protobuf)).toEqual(ofTenant());
    const { destinations } = await fixture.client.request(listSiemDestinations, {
      viewer: viewer(tenant),
    });
    expect(destinations.map((destination) => destination.exportedThroughSeq)).toEqual([20, 20]);
  });

  it('sends a test record on demand and reports the outcome', async () => {
    const { destinations } = await fixture.client.request(listSiemDestinations, {
      viewer: viewer(tenant),
    });
    const target = destinations.find((destination) => destination.endpoint === json.url)!;
    expect(
      await fixture.client.request(testSiemDestination, {
        viewer: viewer(tenant, 'admin'),
        id: target.id,
      }),
    ).toEqual({ delivered: true });
    expect(json.records.at(-1)?.eventName).toBe('heroagent.siem.test');
    await json.down();
    const failed = await fixture.client.request(testSiemDestination, {
      viewer: viewer(tenant, 'admin'),
      id: target.id,
    });
    expect(failed.delivered).toBe(false);
    expect(failed.error).toBeDefined();
    await json.up();
    expect(
      await fixture.client.request(removeSiemDestination, {
        viewer: viewer(tenant, 'admin'),
        id: target.id,
      }),
    ).toEqual({ removed: true });
  });
});
