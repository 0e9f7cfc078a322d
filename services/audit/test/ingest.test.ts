import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_CHECKPOINT_PURPOSE,
  auditRecordSchema,
  exportAuditBundle,
  listCheckpoints,
  proveConsistency,
  proveInclusion,
  queryAuditRecords,
  verifyAuditChain,
  type SignedAuditEvent,
} from '@heroagent/contracts';
import { ed25519Fingerprint, generateSigningKey, verifyJson } from '@heroagent/crypto';
import { sql } from '@heroagent/db';
import {
  canonicalEnvelope,
  leafHash,
  verifyBundleLines,
  verifyConsistency,
  verifyInclusion,
} from '@heroagent/audit-chain';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { auditConfigSchema } from '../src/config.js';
import { startAudit } from '../src/audit.js';
import { startAuditFixture, viewer, type AuditFixture } from './fixture.js';

describe(
  'audit ingest, chain, checkpoints, query and export (real Postgres and JetStream)',
  { timeout: 60_000 },
  () => {
    let fixture: AuditFixture;
    let audit: RunningService;
    const tenantA = randomUUID();
    const tenantB = randomUUID();
    const alice = randomUUID();
    const sent: SignedAuditEvent[] = [];

    beforeAll(async () => {
      fixture = await startAuditFixture();
      audit = await startAudit(
        auditConfigSchema.parse(fixture.env()),
        createLogger({ service: 'audit', level: 'silent' }),
      );
      for (let index = 0; index < 25; index += 1) {
        const tenant = index % 5 === 4 ? tenantB : tenantA;
        const envelope = signedTestEvent(fixture.gatewayKey, tenant, {
          userId: tenant === tenantA && index % 3 === 0 ? alice : randomUUID(),
          outcome: index % 7 === 0 ? 'denied' : 'success',
        });
        sent.push(envelope);
        await fixture.publish(envelope);
      }
      await fixture.waitForCount(25);
    });

    afterAll(async () => {
      await audit?.close();
      await fixture?.close();
    });

    it('stores each event once, in per-tenant chains, whatever is redelivered', async () => {
      expect(await fixture.storedCount(tenantA)).toBe(20);
      expect(await fixture.storedCount(tenantB)).toBe(5);
      // The same events again: with the same Nats-Msg-Id (deduplicated by JetStream) and with none.
      for (const envelope of sent.slice(0, 5)) await fixture.publish(envelope);
      for (const envelope of sent.slice(0, 5))
        await fixture.js.publish(
          `audit.events.${envelope.event.tenantId}`,
          JSON.stringify(envelope),
        );
      const marker = signedTestEvent(fixture.gatewayKey, tenantA);
      await fixture.publish(marker);
      await fixture.waitForCount(21, tenantA);
      expect(await fixture.storedCount()).toBe(26);
      const { rows } = await sql<{ seqs: number[] }>`
      select array_agg(seq::int order by seq) as seqs from audit.events where tenant_id = ${tenantA}`.execute(
        fixture.admin,
      );
      expect(rows[0]!.seqs).toEqual(Array.from({ length: 21 }, (_, index) => index + 1));
    });

    it('quarantines forged, unsigned, malformed and misaddressed events with a coded reason, chaining none', async () => {
      const before = await fixture.storedCount();
      const genuine = signedTestEvent(fixture.gatewayKey, tenantA);
      const cases: [string, SignedAuditEvent | string, string?][] = [
        ['SIGNATURE_INVALID', { ...genuine, event: { ...genuine.event, outcome: 'failure' } }],
        ['UNKNOWN_KEY', signedTestEvent(generateSigningKey(), tenantA)],
        [
          'MALFORMED',
          JSON.stringify({ event: signedTestEvent(fixture.gatewayKey, tenantA).event }),
        ],
        ['MALFORMED', 'this is not json'],
        ['TENANT_MISMATCH', signedTestEvent(fixture.gatewayKey, tenantA), tenantB],
        [
          'KEY_SERVICE_MISMATCH',
          signedTestEvent(fixture.gatewayKey, tenantA, { source: 'vault-proxy' }),
        ],
      ];
      for (const [, envelope, subjectTenant] of cases)
        await fixture.publish(envelope, subjectTenant);
      // A reused event id with other content is refused too.
      const reused = signedTestEvent(fixture.gatewayKey, tenantA, { id: sent[1]!.event.id });
      await fixture.js.publish(`audit.events.${tenantA}`, JSON.stringify(reused));
      const deadline = Date.now() + 15_000;
      let reasons: string[] = [];
      while (Date.now() < deadline) {
        reasons = (
          await sql<{ reason: string }>`select reason from audit.quarantine order by id`.execute(
            fixture.admin,
          )
        ).rows.map((row) => row.reason);
        if (reasons.length >= cases.length + 1) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(reasons.sort()).toEqual(
        [...cases.map(([reason]) => reason), 'DUPLICATE_CONFLICT'].sort(),
      );
      expect(await fixture.storedCount()).toBe(before);
      // What was refused is kept as its hash, its size and its first bytes, enough to find it.
      const unknownKey = Buffer.from(JSON.stringify(cases[1]![1]));
      const { rows } = await sql<{
        payload: Buffer;
        payload_sha256: Buffer;
        payload_bytes: number;
      }>`select payload, payload_sha256, payload_bytes from audit.quarantine
         where reason = 'UNKNOWN_KEY'`.execute(fixture.admin);
      expect(rows[0]!.payload_sha256).toEqual(createHash('sha256').update(unknownKey).digest());
      expect(rows[0]!.payload_bytes).toBe(unknownKey.length);
      expect(rows[0]!.payload).toEqual(unknownKey.subarray(0, 1024));
    });

    it('never returns one tenant’s events to another, and a member only their own', async () => {
      const ofA = await fixture.client.request(queryAuditRecords, {
        viewer: viewer(tenantA),
        limit: 500,
      });
      const ofB = await fixture.client.request(queryAuditRecords, {
        viewer: viewer(tenantB),
        limit: 500,
      });
      expect(ofA.records.every((record) => record.envelope.event.tenantId === tenantA)).toBe(true);
      expect(ofB.records.map((record) => record.envelope.event.tenantId)).toEqual(
        Array(5).fill(tenantB),
      );
      // A tenant B viewer filtering for a tenant A user finds nothing.
      const crossed = await fixture.client.request(queryAuditRecords, {
        viewer: viewer(tenantB),
        filter: { userId: alice },
      });
      expect(crossed.records).toEqual([]);
      const mine = await fixture.client.request(queryAuditRecords, {
        viewer: viewer(tenantA, 'member', alice),
      });
      expect(mine.records.length).toBeGreaterThan(0);
      expect(mine.records.every((record) => record.envelope.event.userId === alice)).toBe(true);
      await expect(
        fixture.client.request(queryAuditRecords, {
          viewer: viewer(tenantA, 'member', alice),
          filter: { userId: randomUUID() },
        }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });

    it('filters and pages with a cursor, newest first', async () => {
      const denied = await fixture.client.request(queryAuditRecords, {
        viewer: viewer(tenantA),
        filter: { outcome: 'denied' },
      });
      expect(denied.records.length).toBeGreaterThan(0);
      expect(denied.records.every((record) => record.envelope.event.outcome === 'denied')).toBe(
        true,
      );
      const seen: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await fixture.client.request(queryAuditRecords, {
          viewer: viewer(tenantA),
          limit: 4,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.records.map((record) => record.seq));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toEqual(Array.from({ length: 21 }, (_, index) => 21 - index));
      await expect(
        fixture.client.request(queryAuditRecords, {
          viewer: viewer(tenantA),
          cursor: 'bm90LWEtY3Vyc29y',
        }),
      ).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
      });
    });

    it('signs checkpoints, and proves inclusion and consistency against them', async () => {
      // One checkpoint came with the first batch (10+ events), the next with the periodic timer (1 s).
      let { checkpoints } = await fixture.client.request(listCheckpoints, {
        viewer: viewer(tenantA),
      });
      for (let attempt = 0; attempt < 50 && checkpoints.length < 2; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        ({ checkpoints } = await fixture.client.request(listCheckpoints, {
          viewer: viewer(tenantA),
        }));
      }
      expect(checkpoints.length).toBeGreaterThanOrEqual(2);
      for (const signed of checkpoints) {
        expect(() =>
          verifyJson(
            signed.checkpoint,
            AUDIT_CHECKPOINT_PURPOSE,
            signed.signature,
            () => fixture.auditKey.publicKey,
          ),
        ).not.toThrow();
      }
      const newest = checkpoints[0]!;
      const oldest = checkpoints.at(-1)!;
      const inclusion = await fixture.client.request(proveInclusion, {
        viewer: viewer(tenantA),
        eventId: sent[0]!.event.id,
      });
      // The leaf is computed from the event as it was sent, not taken from the service's answer.
      const leaf = leafHash(canonicalEnvelope(sent[0]!));
      expect(inclusion.leafHash).toBe(leaf.toString('hex'));
      expect(
        verifyInclusion(
          leaf,
          inclusion.leafIndex,
          inclusion.checkpoint.checkpoint.treeSize,
          inclusion.proof.map((hash) => Buffer.from(hash, 'hex')),
          Buffer.from(inclusion.checkpoint.checkpoint.rootHash, 'hex'),
        ),
      ).toBe(true);
      const consistency = await fixture.client.request(proveConsistency, {
        viewer: viewer(tenantA),
        first: oldest.checkpoint.treeSize,
        second: newest.checkpoint.treeSize,
      });
      expect(
        verifyConsistency(
          oldest.checkpoint.treeSize,
          newest.checkpoint.treeSize,
          Buffer.from(oldest.checkpoint.rootHash, 'hex'),
          Buffer.from(newest.checkpoint.rootHash, 'hex'),
          consistency.proof.map((hash) => Buffer.from(hash, 'hex')),
        ),
      ).toBe(true);
      await expect(
        fixture.client.request(proveInclusion, {
          viewer: viewer(tenantB),
          eventId: sent[0]!.event.id,
        }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(
        fixture.client.request(listCheckpoints, { viewer: viewer(tenantA, 'member') }),
      ).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    });

    it('exports a bundle that verifies offline against the pinned audit key, and its records in chain order', async () => {
      const lines = await fixture.exportBundle(tenantA);
      const report = await verifyBundleLines(lines, {
        trustedAuditKeys: new Set([ed25519Fingerprint(fixture.auditKey.publicKey)]),
        requireCoveredTail: true,
      });
      expect(report).toMatchObject({ ok: true, events: 21 });
      const records = await fixture.client.request(exportAuditBundle, {
        viewer: viewer(tenantA),
        format: 'records',
      });
      const parsed = records.lines.map((line) => auditRecordSchema.parse(JSON.parse(line)));
      expect(parsed.map((record) => record.seq)).toEqual(
        Array.from({ length: 21 }, (_, index) => index + 1),
      );
      await expect(
        fixture.client.request(exportAuditBundle, {
          viewer: viewer(tenantA, 'member'),
          format: 'jsonl',
        }),
      ).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    });

    it('verifies its own stored record', async () => {
      expect(
        await fixture.client.request(verifyAuditChain, { viewer: viewer(tenantA) }),
      ).toMatchObject({ ok: true, events: 21 });
      expect(
        await fixture.client.request(verifyAuditChain, { viewer: viewer(tenantB) }),
      ).toMatchObject({ ok: true, events: 5 });
    });

    it('refuses to let even its own role rewrite or delete a stored event', async () => {
      const { createDatabase } = await import('@heroagent/db');
      const runtime = createDatabase<unknown>({
        connectionString: fixture.service.runtimeUrl,
        schema: 'audit',
        applicationName: 'test',
      });
      try {
        await expect(
          runtime.transaction().execute(async (trx) => {
            await sql`select set_config('app.tenant_id', ${tenantA}, true)`.execute(trx);
            await sql`update events set outcome = 'failure' where seq = 1`.execute(trx);
          }),
        ).rejects.toThrow(/permission denied|append-only/);
        await expect(
          runtime.transaction().execute(async (trx) => {
            await sql`select set_config('app.tenant_id', ${tenantA}, true)`.execute(trx);
            await sql`delete from events where seq = 1`.execute(trx);
          }),
        ).rejects.toThrow(/permission denied|append-only/);
      } finally {
        await runtime.destroy();
      }
    });
  },
);
