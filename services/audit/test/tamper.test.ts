import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain, type VerificationReport } from '@heroagent/contracts';
import { canonicalEnvelope, chainHash, leafHash, verifyBundleLines } from '@heroagent/audit-chain';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import { ed25519Fingerprint, exportEd25519PublicKey, generateSigningKey } from '@heroagent/crypto';
import { sql, type Kysely } from '@heroagent/db';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { startAudit } from '../src/audit.js';
import { auditConfigSchema } from '../src/config.js';
import { startAuditFixture, viewer, type AuditFixture } from './fixture.js';

/** Changes behind the service's back, as a superuser with triggers off: what an intruder in the database could do. */
async function tamper(
  admin: Kysely<unknown>,
  change: (trx: Kysely<unknown>) => Promise<void>,
): Promise<void> {
  await admin.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await change(trx);
  });
}

describe(
  'tamper matrix on the stored record (service check and offline verifier)',
  { timeout: 90_000 },
  () => {
    let fixture: AuditFixture;
    let audit: RunningService;
    const tenants = new Map<string, string>();
    const CASES = [
      'untouched',
      'change a field',
      'delete one',
      'reorder two',
      'insert one',
      'truncate the tail',
      'swap a key',
    ] as const;

    async function serviceCheck(tenantId: string): Promise<VerificationReport> {
      return fixture.client.request(verifyAuditChain, { viewer: viewer(tenantId) });
    }

    async function offlineCheck(tenantId: string): Promise<VerificationReport> {
      const lines = await fixture.exportBundle(tenantId);
      return verifyBundleLines(lines, {
        trustedAuditKeys: new Set([ed25519Fingerprint(fixture.auditKey.publicKey)]),
        requireCoveredTail: true,
      });
    }

    beforeAll(async () => {
      fixture = await startAuditFixture();
      audit = await startAudit(
        auditConfigSchema.parse(fixture.env()),
        createLogger({ service: 'audit', level: 'silent' }),
      );
      for (const name of CASES) {
        const tenantId = randomUUID();
        tenants.set(name, tenantId);
        for (let index = 0; index < 12; index += 1)
          await fixture.publish(signedTestEvent(fixture.gatewayKey, tenantId));
      }
      await fixture.waitForCount(12 * CASES.length);
      // An export signs a checkpoint over everything: every stored event is covered before tampering.
      for (const tenantId of tenants.values())
        expect(await offlineCheck(tenantId)).toMatchObject({ ok: true, events: 12 });
    });

    afterAll(async () => {
      await audit?.close();
      await fixture?.close();
    });

    it('finds an untouched record intact, both ways', async () => {
      const tenantId = tenants.get('untouched')!;
      expect(await serviceCheck(tenantId)).toEqual({
        ok: true,
        events: 12,
        checkpoints: expect.any(Number) as number,
      });
      expect((await offlineCheck(tenantId)).ok).toBe(true);
    });

    it.each([
      [
        'change a field',
        async (admin: Kysely<unknown>, tenantId: string) =>
          sql`update audit.events set envelope = replace(envelope, '"outcome":"success"', '"outcome":"failure"')
            where tenant_id = ${tenantId} and seq = 5`.execute(admin),
        { seq: 5, code: 'HASH_MISMATCH' },
      ],
      [
        'delete one',
        async (admin: Kysely<unknown>, tenantId: string) =>
          sql`delete from audit.events where tenant_id = ${tenantId} and seq = 5`.execute(admin),
        { seq: 6, code: 'SEQUENCE_GAP' },
      ],
      [
        'reorder two',
        async (admin: Kysely<unknown>, tenantId: string) => {
          await sql`update audit.events set seq = 1000 where tenant_id = ${tenantId} and seq = 5`.execute(
            admin,
          );
          await sql`update audit.events set seq = 5 where tenant_id = ${tenantId} and seq = 6`.execute(
            admin,
          );
          await sql`update audit.events set seq = 6 where tenant_id = ${tenantId} and seq = 1000`.execute(
            admin,
          );
        },
        { seq: 5, code: 'PREV_HASH_MISMATCH' },
      ],
      [
        'insert one',
        async (admin: Kysely<unknown>, tenantId: string, fixtureRef: AuditFixture) => {
          // A genuinely signed event slipped in at 6, chained onto 5, the later ones moved up.
          const { rows } = await sql<{
            hash: Buffer;
          }>`select hash from audit.events where tenant_id = ${tenantId} and seq = 5`.execute(
            admin,
          );
          const envelope = signedTestEvent(fixtureRef.gatewayKey, tenantId);
          const canonical = canonicalEnvelope(envelope);
          await sql`update audit.events set seq = seq + 100 where tenant_id = ${tenantId} and seq >= 6`.execute(
            admin,
          );
          await sql`update audit.events set seq = seq - 99 where tenant_id = ${tenantId} and seq >= 106`.execute(
            admin,
          );
          await sql`insert into audit.events (tenant_id, seq, event_id, prev_hash, hash, leaf_hash, envelope, occurred_at,
                    received_at, name, source, outcome)
                  values (${tenantId}, 6, ${envelope.event.id}, ${rows[0]!.hash}, ${chainHash(rows[0]!.hash, canonical)},
                    ${leafHash(canonical)}, ${canonical.toString('utf8')}, now(), now(), 'action.executed', 'gateway', 'success')`.execute(
            admin,
          );
          await sql`update audit.chain_heads set seq = 13 where tenant_id = ${tenantId}`.execute(
            admin,
          );
        },
        { seq: 7, code: 'PREV_HASH_MISMATCH' },
      ],
      [
        'truncate the tail',
        async (admin: Kysely<unknown>, tenantId: string) => {
          await sql`delete from audit.events where tenant_id = ${tenantId} and seq > 9`.execute(
            admin,
          );
          await sql`update audit.chain_heads set seq = 9 where tenant_id = ${tenantId}`.execute(
            admin,
          );
        },
        { code: 'TRUNCATED' },
      ],
      [
        'swap a key',
        async (admin: Kysely<unknown>, _tenantId: string, fixtureRef: AuditFixture) =>
          sql`update audit.signing_keys set public_key = ${exportEd25519PublicKey(generateSigningKey().publicKey)}
            where kid = ${fixtureRef.gatewayKey.kid}`.execute(admin),
        { seq: 1, code: 'SIGNATURE_INVALID' },
      ],
    ] as const)('detects: %s', async (name, change, expected) => {
      const tenantId = tenants.get(name)!;
      await tamper(fixture.admin, (trx) => change(trx, tenantId, fixture).then(() => undefined));
      const service = await serviceCheck(tenantId);
      expect(service.ok, 'service check').toBe(false);
      expect(service.firstProblem).toMatchObject(expected);
      const offline = await offlineCheck(tenantId);
      expect(offline.ok, 'offline verifier').toBe(false);
      expect(offline.firstProblem).toMatchObject(expected);
      if (name === 'swap a key') {
        // Restore the key: the other tenants' records are signed with it.
        await tamper(fixture.admin, async (trx) => {
          await sql`update audit.signing_keys set public_key = ${exportEd25519PublicKey(fixture.gatewayKey.publicKey)}
                  where kid = ${fixture.gatewayKey.kid}`.execute(trx);
        });
      }
    });

    it('sets aside new events of a damaged chain without holding up other tenants', async () => {
      const damaged = tenants.get('insert one')!;
      const healthy = tenants.get('untouched')!;
      await fixture.publish(signedTestEvent(fixture.gatewayKey, damaged));
      await fixture.publish(signedTestEvent(fixture.gatewayKey, healthy));
      await fixture.waitForCount(13, healthy);
      const deadline = Date.now() + 10_000;
      let reasons: string[] = [];
      while (Date.now() < deadline && reasons.length === 0) {
        reasons = (
          await sql<{
            reason: string;
          }>`select reason from audit.quarantine where tenant_id = ${damaged}`.execute(
            fixture.admin,
          )
        ).rows.map((row) => row.reason);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(reasons).toEqual(['CHAIN_CORRUPT']);
      expect((await serviceCheck(healthy)).ok).toBe(true);
    });
  },
);
