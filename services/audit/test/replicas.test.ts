import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configureSiemDestination,
  listSiemDestinations,
  verifyAuditChain,
  type SignedAuditEvent,
} from '@heroagent/contracts';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import { sql } from '@heroagent/db';
import { OtlpReceiverDouble } from '@heroagent/doubles';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { startAudit } from '../src/audit.js';
import { auditConfigSchema } from '../src/config.js';
import { AUDIT_CONSUMER, AUDIT_STREAM } from '../src/provisioning/audit-stream.js';
import { startAuditFixture, viewer, type AuditFixture } from './fixture.js';

const EVENTS = 1200;

async function until(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Two audit replicas on one Postgres, pulling from the one durable consumer, while a third
 * puller takes messages and gives some back (nak) and lets others time out (redelivered), and
 * some events arrive twice: every tenant's chain verifies, no event is lost or stored twice,
 * checkpoints never conflict, and a SIEM destination receives each event once.
 */
describe('two audit replicas on one durable consumer', { timeout: 120_000 }, () => {
  let fixture: AuditFixture;
  let replicas: RunningService[];
  let receiver: OtlpReceiverDouble;
  const tenants = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    // Unacknowledged messages come back after 2 s.
    fixture = await startAuditFixture({ stream: { ackWaitMs: 2_000 } });
    receiver = await OtlpReceiverDouble.start();
    const config = auditConfigSchema.parse(
      fixture.env({
        AUDIT_INGEST_BATCH: '40',
        AUDIT_CHECKPOINT_EVERY_EVENTS: '25',
        AUDIT_CHECKPOINT_INTERVAL_S: '1',
        AUDIT_SIEM_POLL_MS: '20',
        AUDIT_SIEM_BATCH: '7',
        AUDIT_SIEM_ALLOW_PRIVATE_NETWORKS: 'true',
      }),
    );
    const logger = createLogger({ service: 'audit', level: 'silent' });
    replicas = [await startAudit(config, logger), await startAudit(config, logger)];
  });
  afterAll(async () => {
    for (const replica of replicas ?? []) await replica.close();
    await receiver?.close();
    await fixture?.close();
  });

  it('chains every event once, in order per tenant, through naks, redeliveries and duplicates', async () => {
    await fixture.client.request(configureSiemDestination, {
      viewer: viewer(tenants[0]!, 'admin'),
      name: 'Collector',
      endpoint: receiver.url,
      encoding: 'json',
      headers: {},
    });
    const envelopes: SignedAuditEvent[] = Array.from({ length: EVENTS }, (_, index) =>
      signedTestEvent(fixture.gatewayKey, tenants[index % tenants.length]!),
    );
    const publishing = (async () => {
      for (let offset = 0; offset < envelopes.length; offset += 40) {
        const slice = envelopes.slice(offset, offset + 40);
        await Promise.all(slice.map((envelope) => fixture.publish(envelope)));
        // Every fourth slice again without a message id: JetStream delivers those twice.
        if (offset % 160 === 0)
          await Promise.all(
            slice.map((envelope) =>
              fixture.js.publish(
                `audit.events.${envelope.event.tenantId}`,
                JSON.stringify(envelope),
              ),
            ),
          );
      }
    })();
    // A third puller on the same consumer: gives half of what it takes back at once, and leaves
    // the other half to time out, as a replica that crashed mid-batch would.
    const puller = await fixture.nats.connectAs('audit');
    let taken = 0;
    try {
      const consumer = await jetstream(puller).consumers.get(AUDIT_STREAM, AUDIT_CONSUMER);
      for (let round = 0; round < 3; round += 1) {
        const batch = await consumer.fetch({ max_messages: 60, expires: 1_000 });
        for await (const message of batch) {
          if (taken % 2 === 0) message.nak();
          taken += 1;
        }
      }
      await publishing;
      await until(async () => {
        const info = await consumer.info();
        return info.num_pending === 0 && info.num_ack_pending === 0;
      });
      // What it took came back to the replicas: nothing it held is missing below.
      expect(taken).toBeGreaterThan(0);
    } finally {
      await puller.close();
    }

    const { rows } = await sql<{ total: number; distinct: number }>`
      select count(*)::int as total, count(distinct event_id)::int as distinct
      from audit.events`.execute(fixture.admin);
    expect(rows[0]).toEqual({ total: EVENTS, distinct: EVENTS });
    for (const tenantId of tenants) {
      const seqs = await sql<{ seq: number }>`
        select seq::int as seq from audit.events where tenant_id = ${tenantId} order by seq`.execute(
        fixture.admin,
      );
      expect(seqs.rows.map((row) => row.seq)).toEqual(
        Array.from({ length: EVENTS / tenants.length }, (_, index) => index + 1),
      );
      const report = await fixture.client.request(
        verifyAuditChain,
        { viewer: viewer(tenantId) },
        { timeoutMs: 30_000 },
      );
      expect(report, tenantId).toMatchObject({ ok: true, events: EVENTS / tenants.length });
    }
  });

  it('signs each checkpoint once, each over a longer chain than the one before', async () => {
    await until(async () => {
      const { rows } = await sql<{ pending: number }>`
        select count(*)::int as pending from audit.tenant_activity
        where seq > checkpointed_seq`.execute(fixture.admin);
      return rows[0]!.pending === 0;
    });
    for (const tenantId of tenants) {
      const { rows } = await sql<{ tree_size: number; payload: string }>`
        select tree_size::int as tree_size, payload from audit.checkpoints
        where tenant_id = ${tenantId} order by checkpoint_index`.execute(fixture.admin);
      expect(rows.at(-1)?.tree_size).toBe(EVENTS / tenants.length);
      // Numbered 1, 2, 3… each linking to the one before it: no two were signed over one head.
      let previous: unknown = null;
      rows.forEach((row, position) => {
        const checkpoint = JSON.parse(row.payload) as {
          index: number;
          previous: { index: number; treeSize: number; rootHash: string } | null;
          treeSize: number;
          rootHash: string;
        };
        expect(checkpoint.index).toBe(position + 1);
        expect(
          checkpoint.previous === null
            ? null
            : {
                index: checkpoint.previous.index,
                treeSize: checkpoint.previous.treeSize,
                rootHash: checkpoint.previous.rootHash,
              },
        ).toEqual(previous);
        previous = {
          index: checkpoint.index,
          treeSize: checkpoint.treeSize,
          rootHash: checkpoint.rootHash,
        };
      });
    }
  });

  it('streams each event to a SIEM destination once, whichever replica streams it', async () => {
    const tenantId = tenants[0]!;
    await until(async () => {
      const { destinations } = await fixture.client.request(listSiemDestinations, {
        viewer: viewer(tenantId, 'auditor'),
      });
      return destinations[0]?.exportedThroughSeq === EVENTS / tenants.length;
    });
    // Events only: the signed checkpoints that follow them are delivered once each too.
    const ids = receiver.records
      .filter((record) => record.eventName !== 'heroagent.audit.checkpoint')
      .map((record) => record.attributes['heroagent.event.id']);
    const checkpoints = receiver.records
      .filter((record) => record.eventName === 'heroagent.audit.checkpoint')
      .map((record) => record.attributes['heroagent.checkpoint.index']);
    expect(new Set(checkpoints).size).toBe(checkpoints.length);
    expect(ids).toHaveLength(EVENTS / tenants.length);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
