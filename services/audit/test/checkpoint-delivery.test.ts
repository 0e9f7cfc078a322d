import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_CHECKPOINT_PURPOSE,
  configureSiemDestination,
  listCheckpoints,
  listSiemDestinations,
  testSiemDestination,
} from '@heroagent/contracts';
import { parseKeptCheckpoint } from '@heroagent/audit-chain';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import { ed25519Verify, fromBase64Url, verifyJson } from '@heroagent/crypto';
import { OtlpReceiverDouble } from '@heroagent/doubles';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { auditConfigSchema } from '../src/config.js';
import { startAudit } from '../src/audit.js';
import { startAuditFixture, viewer, type AuditFixture } from './fixture.js';

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A webhook receiver that can refuse, recording every POST. */
class WebhookReceiver {
  readonly posts: { headers: IncomingHttpHeaders; body: string; status: number }[] = [];
  refuse = 0;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const status = receiver.refuse > 0 ? 503 : 204;
        if (receiver.refuse > 0) receiver.refuse -= 1;
        receiver.posts.push({
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status,
        });
        response.writeHead(status).end();
      });
    });
    const receiver: WebhookReceiver = new WebhookReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/heroagent`;
  }

  accepted(): string[] {
    return this.posts.filter((post) => post.status === 204).map((post) => post.body);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('signed checkpoints leave the operator (SIEM and webhook)', { timeout: 60_000 }, () => {
  let fixture: AuditFixture;
  let audit: RunningService;
  let receiver: OtlpReceiverDouble;
  let webhook: WebhookReceiver;
  const tenantId = randomUUID();
  const start = async () =>
    startAudit(
      auditConfigSchema.parse(
        fixture.env({
          AUDIT_CHECKPOINT_EVERY_EVENTS: '3',
          AUDIT_SIEM_POLL_MS: '50',
          AUDIT_SIEM_ALLOW_PRIVATE_NETWORKS: 'true',
        }),
      ),
      createLogger({ service: 'audit', level: 'silent' }),
    );
  const publish = async (count: number) => {
    for (let index = 0; index < count; index += 1)
      await fixture.publish(signedTestEvent(fixture.gatewayKey, tenantId));
  };
  const destinations = async () =>
    (await fixture.client.request(listSiemDestinations, { viewer: viewer(tenantId) })).destinations;
  const checkpoints = async () =>
    (
      await fixture.client.request(listCheckpoints, { viewer: viewer(tenantId), limit: 500 })
    ).checkpoints.reverse();
  const verifies = (signed: ReturnType<typeof parseKeptCheckpoint>) =>
    verifyJson(
      signed.checkpoint,
      AUDIT_CHECKPOINT_PURPOSE,
      signed.signature,
      () => fixture.auditKey.publicKey,
    );

  beforeAll(async () => {
    fixture = await startAuditFixture();
    receiver = await OtlpReceiverDouble.start();
    webhook = await WebhookReceiver.start();
    audit = await start();
  });
  afterAll(async () => {
    await audit?.close();
    await webhook?.close();
    await receiver?.close();
    await fixture?.close();
  });

  it('sends each checkpoint to an OTLP destination after the events it covers, verbatim', async () => {
    await fixture.client.request(configureSiemDestination, {
      viewer: viewer(tenantId, 'admin'),
      name: 'Collector',
      endpoint: receiver.url,
      encoding: 'protobuf',
    });
    await publish(3);
    await fixture.waitForCount(3, tenantId);
    await until(async () => (await destinations())[0]!.checkpointsThrough >= 1);
    await publish(3);
    await fixture.waitForCount(6, tenantId);
    // Every checkpoint signed so far (the last over all six events) has been delivered.
    await until(async () => {
      const signed = await checkpoints();
      return (
        signed.at(-1)?.checkpoint.treeSize === 6 &&
        (await destinations())[0]!.checkpointsThrough === signed.length
      );
    });
    const received = receiver.records.filter(
      (record) => record.eventName === 'heroagent.audit.checkpoint',
    );
    expect(received.length).toBeGreaterThanOrEqual(2);
    received.forEach((record, position) => {
      const signed = parseKeptCheckpoint(record.body as string);
      expect(signed.checkpoint).toMatchObject({ v: 2, index: position + 1, tenantId });
      expect(record.attributes['heroagent.checkpoint.index']).toBe(position + 1);
      expect(() => verifies(signed)).not.toThrow();
      // It arrives after the events it covers.
      const seqsBefore = receiver.records
        .slice(0, receiver.records.indexOf(record))
        .map((other) => other.attributes['heroagent.audit.seq']);
      expect(seqsBefore).toContain(signed.checkpoint.treeSize);
    });
  });

  it('POSTs each checkpoint to a webhook, signed, retrying until accepted, across a restart', async () => {
    webhook.refuse = 2;
    const created = await fixture.client.request(configureSiemDestination, {
      viewer: viewer(tenantId, 'admin'),
      name: 'Witness',
      kind: 'webhook',
      endpoint: webhook.url,
      encoding: 'json',
      headers: { Authorization: 'Bearer witness-token' },
    });
    expect(created).toMatchObject({ kind: 'webhook', checkpointsThrough: 0 });
    const signedSoFar = (await checkpoints()).length;
    await until(() => webhook.accepted().length >= signedSoFar);
    // Refused twice, backed off, then delivered in order.
    expect(webhook.posts.slice(0, 2).map((post) => post.status)).toEqual([503, 503]);

    // Restarted while events arrive: the cursor in Postgres says where delivery stands.
    await audit.close();
    await publish(3);
    audit = await start();
    await fixture.waitForCount(9, tenantId);
    let total = 0;
    await until(async () => {
      const signed = await checkpoints();
      total = signed.length;
      return signed.at(-1)?.checkpoint.treeSize === 9 && webhook.accepted().length === total;
    });
    const bodies = webhook.accepted().map((body) => JSON.parse(body) as Record<string, unknown>);
    expect(bodies.map((body) => (body.checkpoint as { index: number }).index)).toEqual(
      Array.from({ length: total }, (_, index) => index + 1),
    );
    for (const post of webhook.posts.filter((p) => p.status === 204)) {
      expect(post.headers.authorization).toBe('Bearer witness-token');
      const match = /^t=(\d+), kid=([^,]+), ed25519=([A-Za-z0-9_-]+)$/.exec(
        String(post.headers['heroagent-signature']),
      );
      expect(match?.[2]).toBe(fixture.auditKey.kid);
      const message = Buffer.from(
        `heroagent.audit.webhook.v1\n${match![1]}\n${created.id}\n${post.body}`,
      );
      expect(ed25519Verify(message, fromBase64Url(match![3]!)!, fixture.auditKey.publicKey)).toBe(
        true,
      );
      // What the witness keeps is the body itself: audit:verify --since reads it.
      expect(() => verifies(parseKeptCheckpoint(post.body))).not.toThrow();
    }
    // A webhook takes checkpoints only, never events.
    const [, witness] = await destinations();
    expect(witness).toMatchObject({
      kind: 'webhook',
      exportedThroughSeq: 0,
      checkpointsThrough: total,
    });
  });

  it('refuses a webhook that is not https, and a test send to a webhook', async () => {
    const configure = (endpoint: string) =>
      fixture.client.request(configureSiemDestination, {
        viewer: viewer(tenantId, 'admin'),
        name: 'Bad',
        kind: 'webhook',
        endpoint,
      });
    await expect(configure('http://10.0.0.5/hook')).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'a webhook must be https',
    });
    await expect(configure('ftp://witness.example/hook')).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    const [, witness] = await destinations();
    await expect(
      fixture.client.request(testSiemDestination, {
        viewer: viewer(tenantId, 'admin'),
        id: witness!.id,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    expect(await destinations()).toHaveLength(2);
  });
});
