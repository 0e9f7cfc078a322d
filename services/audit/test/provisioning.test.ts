import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthContracts } from '@heroagent/contracts';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { startAudit } from '../src/audit.js';
import { auditConfigSchema } from '../src/config.js';
import {
  AUDIT_CONSUMER,
  AUDIT_EVENT_MAX_BYTES,
  AUDIT_STREAM,
  DEFAULT_AUDIT_STREAM,
  provisionAuditStream,
} from '../src/provisioning/audit-stream.js';
import { startAuditFixture, type AuditFixture } from './fixture.js';

const PROVISION = fileURLToPath(new URL('../dist/src/provision.js', import.meta.url));

/** Runs the built provisioning step, as `pnpm start` and a deploy's job do. */
async function runProvisionStep(
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  await access(PROVISION).catch(() => {
    throw new Error('services/audit is not built: run `pnpm build` (pnpm test does) first');
  });
  return promisify(execFile)(process.execPath, [PROVISION], {
    env: { PATH: process.env.PATH ?? '', ...env },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}

/** Rejects with the error's code, or resolves with 'done'. */
const outcome = (work: Promise<unknown>) =>
  work.then(
    () => 'done',
    (error: unknown) => (error as { code?: string }).code ?? (error as Error).message,
  );

describe('the audit stream: provisioned once by its own identity, only read by audit', () => {
  let fixture: AuditFixture;
  let audit: RunningService | undefined;
  let provisioner: NatsConnection;
  const tenant = randomUUID();

  const streamInfo = async (): Promise<StreamInfo> =>
    (await jetstreamManager(provisioner)).streams.info(AUDIT_STREAM);

  beforeAll(async () => {
    fixture = await startAuditFixture({ provision: false });
    provisioner = await fixture.nats.connectAs('provisioner');
  });

  afterAll(async () => {
    await audit?.close();
    await provisioner?.close();
    await fixture?.close();
  });

  it('keeps audit up but not ready, with a coded reason, while nothing is provisioned; it creates nothing', async () => {
    audit = await startAudit(
      auditConfigSchema.parse(fixture.env()),
      createLogger({ service: 'audit', level: 'silent' }),
    );
    const health = await fixture.client.request(healthContracts.audit, {});
    expect(health.status).toBe('degraded');
    const jetstreamCheck = health.checks.find((check) => check.name === 'jetstream');
    expect(jetstreamCheck?.status).toBe('down');
    expect(jetstreamCheck?.detail).toMatch(/^AUDIT_STREAM_MISSING: JetStream stream AUDIT_EVENTS/);
    await expect(outcome(streamInfo())).resolves.toBe(10059);
  });

  it('refuses to provision under any identity but the provisioner’s', async () => {
    for (const identity of ['audit', 'gateway', 'gateway-relay', 'agent'] as const) {
      const connection = await fixture.nats.connectAs(identity);
      try {
        await expect(outcome(provisionAuditStream(connection)), identity).resolves.toBe(
          'NATS_PERMISSION_DENIED',
        );
      } finally {
        await connection.close();
      }
    }
    await expect(outcome(streamInfo())).resolves.toBe(10059);
  });

  it('creates the stream with its limits and the consumer, then updates them in place', async () => {
    await expect(provisionAuditStream(provisioner)).resolves.toEqual({
      stream: 'created',
      consumer: 'created',
    });
    await expect(provisionAuditStream(provisioner)).resolves.toEqual({
      stream: 'updated',
      consumer: 'updated',
    });
    const { config } = await streamInfo();
    expect(config).toMatchObject({
      subjects: ['audit.events.*'],
      max_msg_size: AUDIT_EVENT_MAX_BYTES,
      max_bytes: DEFAULT_AUDIT_STREAM.maxBytes,
      discard: 'new',
      deny_delete: true,
      deny_purge: true,
    });
  });

  it('starts ingesting once provisioned, and reports ready', async () => {
    const event = signedTestEvent(fixture.gatewayKey, tenant);
    await fixture.publish(event);
    await fixture.waitForCount(1, tenant);
    const health = await fixture.client.request(healthContracts.audit, {});
    expect(health.checks.find((check) => check.name === 'jetstream')).toEqual({
      name: 'jetstream',
      status: 'up',
    });
    await audit!.close();
    audit = undefined;
  });

  it('runs as an install step: coded failures for a bad setting or the wrong user, then success', async () => {
    const as = (identity: 'audit' | 'provisioner', extra: Record<string, string> = {}) => ({
      NATS_URL: fixture.nats.url,
      NATS_USER: identity,
      NATS_PASSWORD: fixture.nats.passwords[identity],
      ...extra,
    });
    const badSetting = await runProvisionStep(as('provisioner', { AUDIT_STREAM_MAX_MIB: '0' }));
    expect(badSetting.code).toBe(78);
    expect(badSetting.stderr).toContain('AUDIT_STREAM_MAX_MIB:');
    const wrongUser = await runProvisionStep(as('audit'));
    expect(wrongUser.code).toBe(1);
    expect(wrongUser.stderr).toContain('NATS_PERMISSION_DENIED');
    const done = await runProvisionStep(as('provisioner'));
    expect(done).toMatchObject({ code: 0 });
    expect(done.stdout).toContain('stream AUDIT_EVENTS updated, consumer audit-ingest updated');
    expect(done.stdout + done.stderr).not.toContain(fixture.nats.passwords.provisioner);
  });

  describe('with events waiting in the stream (audit stopped)', () => {
    const waiting = 5;

    beforeAll(async () => {
      for (let index = 0; index < waiting; index += 1)
        await fixture.publish(signedTestEvent(fixture.gatewayKey, tenant));
    });

    /** Every event still there, and still waiting for audit's consumer. */
    async function nothingLost(): Promise<void> {
      expect((await streamInfo()).state.messages).toBe(waiting + 1);
      const consumer = await (
        await jetstreamManager(provisioner)
      ).consumers.info(AUDIT_STREAM, AUDIT_CONSUMER);
      expect(consumer.num_pending).toBe(waiting);
      expect(consumer.config.ack_wait).toBe(DEFAULT_AUDIT_STREAM.ackWaitMs * 1_000_000);
    }

    it('refuses audit’s runtime user every change to its stream and consumer; nothing is lost', async () => {
      const runtime = await fixture.nats.connectAs('audit');
      const { config } = await streamInfo();
      const attacks: [string, string, object][] = [
        [
          'shrink to one message',
          `$JS.API.STREAM.UPDATE.${AUDIT_STREAM}`,
          { ...config, max_msgs: 1 },
        ],
        [
          'lift deny_purge',
          `$JS.API.STREAM.UPDATE.${AUDIT_STREAM}`,
          { ...config, deny_purge: false, deny_delete: false },
        ],
        ['purge', `$JS.API.STREAM.PURGE.${AUDIT_STREAM}`, {}],
        ['delete a message', `$JS.API.STREAM.MSG.DELETE.${AUDIT_STREAM}`, { seq: 1 }],
        ['delete the stream', `$JS.API.STREAM.DELETE.${AUDIT_STREAM}`, {}],
        ['delete its consumer', `$JS.API.CONSUMER.DELETE.${AUDIT_STREAM}.${AUDIT_CONSUMER}`, {}],
        [
          'change its consumer',
          `$JS.API.CONSUMER.CREATE.${AUDIT_STREAM}.${AUDIT_CONSUMER}`,
          {
            stream_name: AUDIT_STREAM,
            action: 'update',
            config: { durable_name: AUDIT_CONSUMER, ack_policy: 'none', ack_wait: 1 },
          },
        ],
        [
          'add a consumer of its own',
          `$JS.API.CONSUMER.CREATE.${AUDIT_STREAM}.mallory`,
          { stream_name: AUDIT_STREAM, config: { durable_name: 'mallory', ack_policy: 'none' } },
        ],
        ['recreate the stream', `$JS.API.STREAM.CREATE.${AUDIT_STREAM}`, config],
      ];
      try {
        for (const [name, subject, body] of attacks) {
          await expect(
            runtime.request(subject, JSON.stringify(body), { timeout: 5_000 }),
            name,
          ).rejects.toThrow(/Permissions Violation/);
        }
      } finally {
        await runtime.close();
      }
      await nothingLost();
    });

    it('refuses the provisioner a purge, a deletion, and a shrink below what the stream holds', async () => {
      for (const subject of [
        `$JS.API.STREAM.PURGE.${AUDIT_STREAM}`,
        `$JS.API.STREAM.DELETE.${AUDIT_STREAM}`,
        `$JS.API.STREAM.MSG.DELETE.${AUDIT_STREAM}`,
        `$JS.API.CONSUMER.DELETE.${AUDIT_STREAM}.${AUDIT_CONSUMER}`,
      ]) {
        await expect(
          provisioner.request(subject, '{"seq":1}', { timeout: 5_000 }),
          subject,
        ).rejects.toThrow(/Permissions Violation/);
      }
      await expect(
        outcome(provisionAuditStream(provisioner, { ...DEFAULT_AUDIT_STREAM, maxBytes: 1024 })),
      ).resolves.toBe('AUDIT_STREAM_SHRINK_REFUSED');
      expect((await streamInfo()).config.max_bytes).toBe(DEFAULT_AUDIT_STREAM.maxBytes);
      await nothingLost();
    });

    it('refuses audit events from every user but the outbox relay, and events over the size limit', async () => {
      for (const identity of ['agent', 'gateway', 'audit', 'vault-proxy', 'provisioner'] as const) {
        const connection = await fixture.nats.connectAs(identity);
        try {
          await expect(
            jetstream(connection).publish(
              `audit.events.${tenant}`,
              JSON.stringify(signedTestEvent(fixture.gatewayKey, tenant)),
            ),
            identity,
          ).rejects.toThrow(/Permissions Violation/);
        } finally {
          await connection.close();
        }
      }
      await expect(
        fixture.js.publish(`audit.events.${tenant}`, 'x'.repeat(AUDIT_EVENT_MAX_BYTES + 1)),
      ).rejects.toThrow(/message size exceeds maximum/i);
      await nothingLost();
    });
  });
});
