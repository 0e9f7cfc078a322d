import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '@heroagent/db';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { startAudit } from '../src/audit.js';
import { auditConfigSchema } from '../src/config.js';
import { startAuditFixture, type AuditFixture } from './fixture.js';

interface Budget {
  bucket: string;
  kept: number;
  dropped: number;
}

describe('the quarantine keeps a hash and a prefix, within a budget per tenant', () => {
  let fixture: AuditFixture;
  const replicas: RunningService[] = [];
  const noisy = randomUUID();
  const quiet = randomUUID();

  const budgets = async () =>
    (
      await sql<Budget>`select bucket, kept::int, dropped::int from audit.quarantine_budget
        order by bucket`.execute(fixture.admin)
    ).rows;

  beforeAll(async () => {
    fixture = await startAuditFixture();
    // Two replicas share the budget: it is held in Postgres, not in either process.
    for (let index = 0; index < 2; index += 1)
      replicas.push(
        await startAudit(
          auditConfigSchema.parse(
            fixture.env({
              // One a minute: within this test's time limit no tenant earns a second token.
              AUDIT_QUARANTINE_PER_TENANT_PER_MINUTE: '1',
              AUDIT_QUARANTINE_PER_MINUTE: '100',
              AUDIT_VERIFY_WORKERS: '1',
            }),
          ),
          createLogger({ service: 'audit', level: 'silent' }),
        ),
      );
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await fixture?.close();
  });

  it('stores 1 KiB of a 200 KiB forgery with the hash of all of it, and only counts what is over budget', async () => {
    const forgeries = Array.from({ length: 8 }, (_, index) =>
      Buffer.from(`{"forged":${index},"padding":"${'x'.repeat(200 * 1024)}"}`),
    );
    for (const forgery of forgeries) await fixture.js.publish(`audit.events.${noisy}`, forgery);
    await fixture.js.publish(`audit.events.${quiet}`, 'not json at all');
    const genuine = signedTestEvent(fixture.gatewayKey, quiet);
    await fixture.publish(genuine);
    await fixture.waitForCount(1, quiet);
    // Every refused event is accounted for, kept or counted, once.
    const deadline = Date.now() + 30_000;
    let all: Budget | undefined;
    while (Date.now() < deadline) {
      all = (await budgets()).find((row) => row.bucket === '*');
      if (all !== undefined && all.kept + all.dropped === 9) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const byBucket = Object.fromEntries(
      (await budgets()).map(({ bucket, kept, dropped }) => [bucket, { kept, dropped }]),
    );
    expect(byBucket).toEqual({
      '*': { kept: 2, dropped: 7 },
      [`tenant:${noisy}`]: { kept: 1, dropped: 7 },
      [`tenant:${quiet}`]: { kept: 1, dropped: 0 },
    });
    const { rows } = await sql<{
      subject: string;
      payload: Buffer;
      payload_sha256: Buffer;
      payload_bytes: number;
    }>`select subject, payload, payload_sha256, payload_bytes from audit.quarantine
       order by id`.execute(fixture.admin);
    expect(rows).toHaveLength(2);
    const kept = rows.filter((row) => row.subject === `audit.events.${noisy}`);
    for (const row of kept) {
      const original = forgeries.find((forgery) =>
        createHash('sha256').update(forgery).digest().equals(row.payload_sha256),
      );
      expect(original).toBeDefined();
      expect(row.payload_bytes).toBe(original!.length);
      expect(row.payload).toEqual(original!.subarray(0, 1024));
    }
    const { rows: size } = await sql<{ bytes: number }>`
      select coalesce(sum(octet_length(payload)), 0)::int as bytes from audit.quarantine`.execute(
      fixture.admin,
    );
    expect(size[0]!.bytes).toBeLessThanOrEqual(2 * 1024);
  });

  it('refuses a whole payload in a new quarantine row, whoever writes it', async () => {
    await expect(
      sql`insert into audit.quarantine (subject, reason, detail, payload, payload_sha256, payload_bytes)
          values ('audit.events.x', 'MALFORMED', 'test', ${Buffer.alloc(1025)},
                  ${Buffer.alloc(32)}, 1025)`.execute(fixture.admin),
    ).rejects.toThrow(/quarantine_payload_capped/);
    await expect(
      sql`insert into audit.quarantine (subject, reason, detail, payload)
          values ('audit.events.x', 'MALFORMED', 'test', ${Buffer.alloc(10)})`.execute(
        fixture.admin,
      ),
    ).rejects.toThrow(/quarantine_payload_capped/);
  });
});
