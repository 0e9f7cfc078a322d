import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_CHECKPOINT_PURPOSE,
  listCheckpoints,
  proveConsistency,
  verifyAuditChain,
  type Checkpoint,
  type SignedCheckpoint,
} from '@heroagent/contracts';
import { checkpointDigest, verifyBundleLines, verifyConsistency } from '@heroagent/audit-chain';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import { canonicalJson, ed25519Fingerprint, generateSigningKey, signJson } from '@heroagent/crypto';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { createTestDatabase } from '@heroagent/db/testing';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { Checkpointer } from '../src/checkpoints/checkpointer.js';
import { auditConfigSchema } from '../src/config.js';
import { startAudit } from '../src/audit.js';
import type { AuditDatabase } from '../src/store/tables.js';
import { startAuditFixture, viewer, type AuditFixture } from './fixture.js';

const logger = createLogger({ service: 'audit', level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_AGE_MS = 400;

describe('witnessed checkpoints (real Postgres and JetStream)', { timeout: 60_000 }, () => {
  let fixture: AuditFixture;
  let audit: RunningService;
  /** Two more replicas' checkpointers, each with its own pool, re-signing after 400 ms. */
  let pools: Kysely<AuditDatabase>[];
  let replicas: Checkpointer[];
  const tenantId = randomUUID();
  const quiet = randomUUID();

  const stored = async (tenant: string) => {
    const { checkpoints } = await fixture.client.request(listCheckpoints, {
      viewer: viewer(tenant),
      limit: 500,
    });
    return checkpoints.reverse();
  };

  beforeAll(async () => {
    fixture = await startAuditFixture();
    audit = await startAudit(auditConfigSchema.parse(fixture.env()), logger);
    for (let index = 0; index < 3; index += 1)
      await fixture.publish(signedTestEvent(fixture.gatewayKey, tenantId));
    await fixture.waitForCount(3, tenantId);
    pools = [0, 1].map(() =>
      createDatabase<AuditDatabase>({
        connectionString: fixture.service.runtimeUrl,
        schema: 'audit',
        applicationName: 'audit-test-replica',
      }),
    );
    replicas = pools.map(
      (db) =>
        new Checkpointer(
          db,
          fixture.auditKey,
          { everyEvents: 1000, intervalMs: 60_000, maxAgeMs: MAX_AGE_MS },
          logger,
        ),
    );
  });

  afterAll(async () => {
    for (const pool of pools ?? []) await pool.destroy();
    await audit?.close();
    await fixture?.close();
  });

  it('re-signs an idle tenant once per period across replicas, numbered and linked', async () => {
    // The service's own timer covers the three events within a second or two.
    for (let attempt = 0; attempt < 50 && (await stored(tenantId)).length === 0; attempt += 1)
      await sleep(100);
    expect(await stored(tenantId)).toHaveLength(1);
    for (let round = 1; round <= 3; round += 1) {
      await sleep(MAX_AGE_MS + 50);
      // Both replicas find the tenant due at once; the head's row lock lets one sign.
      await Promise.all(replicas.map((replica) => replica.checkpointAged()));
      expect(await stored(tenantId)).toHaveLength(1 + round);
    }
    // Not due again before the period is over, however often the replicas look.
    await Promise.all([...replicas, ...replicas].map((replica) => replica.checkpointAged()));
    const checkpoints = (await stored(tenantId)).map(({ checkpoint }) => checkpoint);
    expect(checkpoints).toHaveLength(4);
    checkpoints.forEach((checkpoint, position) => {
      expect(checkpoint).toMatchObject({ v: 2, index: position + 1, treeSize: 3 });
      if (checkpoint.v !== 2) return;
      const before = checkpoints[position - 1];
      expect(checkpoint.previous?.digest ?? null).toBe(
        before === undefined ? null : checkpointDigest(before).toString('hex'),
      );
      if (before !== undefined)
        expect(Date.parse(checkpoint.timestamp)).toBeGreaterThanOrEqual(
          Date.parse(before.timestamp) + MAX_AGE_MS,
        );
    });
    const report = await fixture.client.request(verifyAuditChain, { viewer: viewer(tenantId) });
    expect(report).toMatchObject({ ok: true, events: 3, checkpoints: 4 });
  });

  it('never signs a checkpoint for a tenant without events', async () => {
    await Promise.all(replicas.map((replica) => replica.checkpointAged()));
    expect(await stored(quiet)).toEqual([]);
  });

  it('exports a bundle that extends a checkpoint kept earlier', async () => {
    const [kept] = await stored(tenantId);
    for (let index = 0; index < 2; index += 1)
      await fixture.publish(signedTestEvent(fixture.gatewayKey, tenantId));
    await fixture.waitForCount(5, tenantId);
    const lines = await fixture.exportBundle(tenantId);
    const trusted = new Set([ed25519Fingerprint(fixture.auditKey.publicKey)]);
    expect(
      await verifyBundleLines(lines, {
        trustedAuditKeys: trusted,
        requireCoveredTail: true,
        since: kept!,
      }),
    ).toMatchObject({ ok: true, events: 5 });
    // A checkpoint the operator signed over another history of the same size is refused.
    const forged: Checkpoint = { ...kept!.checkpoint, rootHash: 'a'.repeat(64) };
    const since: SignedCheckpoint = {
      checkpoint: forged,
      signature: signJson(forged, AUDIT_CHECKPOINT_PURPOSE, fixture.auditKey),
    };
    expect(
      (await verifyBundleLines(lines, { trustedAuditKeys: trusted, since })).firstProblem,
    ).toMatchObject({ code: 'SINCE_NOT_EXTENDED' });
  });

  it('proves consistency from a kept size to the latest checkpoint, with the sequence between', async () => {
    const all = await stored(tenantId);
    const kept = all[1]!;
    const answer = await fixture.client.request(proveConsistency, {
      viewer: viewer(tenantId),
      first: kept.checkpoint.treeSize,
    });
    expect(answer.second).toEqual(all.at(-1));
    expect(answer.first).toEqual(all.filter((c) => c.checkpoint.treeSize === 3).at(-1));
    expect(answer.sequence).toEqual(all);
    expect(answer.sequenceComplete).toBe(true);
    expect(
      verifyConsistency(
        kept.checkpoint.treeSize,
        answer.second.checkpoint.treeSize,
        Buffer.from(kept.checkpoint.rootHash, 'hex'),
        Buffer.from(answer.second.checkpoint.rootHash, 'hex'),
        answer.proof.map((hash) => Buffer.from(hash, 'hex')),
      ),
    ).toBe(true);
    // To an earlier checkpoint of a given size, from any size up to it.
    const to3 = await fixture.client.request(proveConsistency, {
      viewer: viewer(tenantId),
      first: 1,
      second: 3,
    });
    expect(to3.second.checkpoint.treeSize).toBe(3);
    expect(to3.first).toBeNull();
    expect(to3.sequence.at(-1)).toEqual(to3.second);
  });

  it('lists the sequence from a checkpoint number on: the next page of a long one', async () => {
    const all = await stored(tenantId);
    const latest = all.at(-1)!.checkpoint;
    expect(latest.v).toBe(2);
    const number = latest.v === 2 ? latest.index : 0;
    const page = await fixture.client.request(proveConsistency, {
      viewer: viewer(tenantId),
      first: 1,
      sequenceFrom: 2,
    });
    expect(page.sequence).toEqual(
      all.filter(({ checkpoint }) => checkpoint.v === 2 && checkpoint.index >= 2),
    );
    expect(page.sequenceComplete).toBe(true);
    const last = await fixture.client.request(proveConsistency, {
      viewer: viewer(tenantId),
      first: 1,
      sequenceFrom: number,
    });
    expect(last.sequence).toEqual([all.at(-1)]);
    await expect(
      fixture.client.request(proveConsistency, {
        viewer: viewer(tenantId),
        first: 1,
        sequenceFrom: number + 1,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST', issues: [{ path: 'sequenceFrom' }] });
  });

  it('refuses bad sizes with a code, members, and sizes never checkpointed', async () => {
    const ask = (request: Record<string, unknown>, role: 'auditor' | 'member' = 'auditor') =>
      fixture.client.request(proveConsistency, {
        viewer: viewer(tenantId, role),
        ...request,
      } as never);
    const invalid = async (request: Record<string, unknown>, path: string) => {
      const error = await ask(request).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'INVALID_REQUEST' });
      expect((error as { issues: { path: string }[] }).issues[0]?.path).toBe(path);
    };
    await invalid({ first: 0 }, 'first');
    await invalid({ first: 1.5 }, 'first');
    await invalid({ first: '2' }, 'first');
    await invalid({ first: 4, second: 3 }, 'first');
    await invalid({ first: 6 }, 'first');
    await invalid({ first: 1, sequenceFrom: 0 }, 'sequenceFrom');
    await expect(ask({ first: 1 }, 'member')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(ask({ first: 1, second: 4 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      fixture.client.request(proveConsistency, { viewer: viewer(quiet), first: 1 }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('numbering checkpoints signed before they were numbered (migration)', () => {
  it('numbers version 1 checkpoints by size and links the head to the last', async () => {
    const database = await createTestDatabase();
    try {
      const service = await database.provisionService('audit');
      const names = Object.keys(migrations).sort();
      const before = Object.fromEntries(
        names.filter((name) => name < '20261206000000').map((name) => [name, migrations[name]!]),
      );
      await service.migrate(before);
      const admin = createDatabase<unknown>({
        connectionString: database.adminUrl,
        schema: 'audit',
        applicationName: 'audit-test-admin',
      });
      try {
        const tenant = randomUUID();
        const key = generateSigningKey();
        const payloads = [2, 5].map((treeSize, position) =>
          canonicalJson({
            v: 1,
            tenantId: tenant,
            treeSize,
            rootHash: String(position).repeat(64),
            chainHead: 'c'.repeat(64),
            timestamp: new Date(Date.UTC(2026, 0, 1, position)).toISOString(),
            previous: position === 0 ? null : { treeSize: 2, rootHash: '0'.repeat(64) },
          }),
        );
        for (const [position, payload] of payloads.entries()) {
          const treeSize = position === 0 ? 2 : 5;
          await sql`insert into audit.checkpoints
            (tenant_id, tree_size, root_hash, payload, kid, signature, signed_at)
            values (${tenant}, ${treeSize}, ${Buffer.alloc(32, position)}, ${payload}, ${key.kid},
                    ${'s'.repeat(86)}, now())`.execute(admin);
        }
        await sql`insert into audit.chain_heads
          (tenant_id, seq, hash, frontier, last_checkpoint_size, last_checkpoint_root)
          values (${tenant}, 5, ${Buffer.alloc(32)}, ${Buffer.alloc(64)}, 5, ${Buffer.alloc(32, 1)})`.execute(
          admin,
        );
        await sql`insert into audit.tenant_activity (tenant_id, seq, checkpointed_seq)
          values (${tenant}, 5, 5)`.execute(admin);
        await service.migrate(migrations);
        const { rows } = await sql<{ tree_size: number; checkpoint_index: number }>`
          select tree_size::int, checkpoint_index::int from audit.checkpoints
          where tenant_id = ${tenant} order by checkpoint_index`.execute(admin);
        expect(rows).toEqual([
          { tree_size: 2, checkpoint_index: 1 },
          { tree_size: 5, checkpoint_index: 2 },
        ]);
        const head = await sql<{ index: number; digest: Buffer; at: Date | null }>`
          select last_checkpoint_index::int as index, last_checkpoint_digest as digest,
                 (select checkpointed_at from audit.tenant_activity where tenant_id = ${tenant}) as at
          from audit.chain_heads where tenant_id = ${tenant}`.execute(admin);
        expect(head.rows[0]!.index).toBe(2);
        expect(head.rows[0]!.digest.toString('hex')).toBe(
          checkpointDigest(JSON.parse(payloads[1]!) as Checkpoint).toString('hex'),
        );
        expect(head.rows[0]!.at).not.toBeNull();
        // Still append-only, and still isolated per tenant, after the migration.
        await expect(
          sql`update audit.checkpoints set kid = 'x' where tenant_id = ${tenant}`.execute(admin),
        ).rejects.toThrow(/append-only/);
        const { rows: forced } = await sql<{ relname: string; relforcerowsecurity: boolean }>`
          select relname, relforcerowsecurity from pg_class
          where relname in ('checkpoints', 'chain_heads')
            and relnamespace = 'audit'::regnamespace order by relname`.execute(admin);
        expect(forced.every((row) => row.relforcerowsecurity)).toBe(true);
      } finally {
        await admin.destroy();
      }
    } finally {
      await database.drop();
    }
  });
});
