import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAuditRecords, type AuditFilter, type Viewer } from '@heroagent/contracts';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import { generateSigningKey } from '@heroagent/crypto';
import { createDatabase, migrateToLatest, sql, type Kysely } from '@heroagent/db';
import { createTestDatabase } from '@heroagent/db/testing';
import type { RunningService } from '@heroagent/service';
import { createLogger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { startAudit } from '../src/audit.js';
import { auditConfigSchema } from '../src/config.js';
import { startAuditFixture, viewer, type AuditFixture } from './fixture.js';

/**
 * The activity query's free text (`q`), here without the trigram index: the migration's owner
 * may not install pg_trgm on this database, so the search scans `event_search` (the gateway's
 * tests run it with the index).
 */
describe('free-text search of the activity query', { timeout: 60_000 }, () => {
  let fixture: AuditFixture;
  let audit: RunningService;
  const tenantId = randomUUID();
  const otherTenant = randomUUID();
  const alice = randomUUID();
  const bob = randomUUID();

  const search = async (q: string, who: Viewer = viewer(tenantId), filter: AuditFilter = {}) =>
    (
      await fixture.client.request(queryAuditRecords, { viewer: who, filter: { ...filter, q } })
    ).records.map((record) => record.envelope.event);

  beforeAll(async () => {
    fixture = await startAuditFixture();
    audit = await startAudit(
      auditConfigSchema.parse(fixture.env()),
      createLogger({ service: 'audit', level: 'silent' }),
    );
    const events = [
      signedTestEvent(fixture.gatewayKey, tenantId, {
        userId: alice,
        rationale: 'Paying the QUARTERLY invoice from Acme.',
      }),
      signedTestEvent(fixture.gatewayKey, tenantId, {
        userId: bob,
        rationale: 'Paying the quarterly invoice from Initech.',
      }),
      signedTestEvent(fixture.gatewayKey, tenantId, {
        userId: bob,
        name: 'action.refused',
        action: 'gmail.messages.send',
        rationale: 'Spent 100% of the budget.',
        policy: { effect: 'deny', policyId: 'limits', reason: 'over the monthly limit' },
        outcome: 'denied',
      }),
      signedTestEvent(fixture.gatewayKey, otherTenant, {
        rationale: 'Paying the quarterly invoice of the other tenant.',
      }),
    ];
    for (const event of events) await fixture.publish(event);
    await fixture.waitForCount(3, tenantId);
    await fixture.waitForCount(1, otherTenant);
  });
  afterAll(async () => {
    await audit?.close();
    await fixture?.close();
  });

  it('finds text in rationales, action types, event names and policy reasons, case-insensitively', async () => {
    expect(await search('quarterly INVOICE')).toHaveLength(2);
    expect((await search('messages.send')).map((event) => event.action)).toEqual([
      'gmail.messages.send',
    ]);
    expect(await search('action.executed')).toHaveLength(2);
    expect((await search('monthly limit')).map((event) => event.outcome)).toEqual(['denied']);
    expect(await search('nothing like this')).toEqual([]);
  });

  it('takes % and _ literally', async () => {
    expect(await search('100%')).toHaveLength(1);
    expect(await search('10_%')).toEqual([]);
    expect(await search('%%%')).toEqual([]);
  });

  it('never finds another tenant’s events, and a member only their own', async () => {
    const found = await search('quarterly invoice');
    expect(found.every((event) => event.tenantId === tenantId)).toBe(true);
    const asBob = await search('quarterly invoice', viewer(tenantId, 'member', bob));
    expect(asBob.map((event) => event.userId)).toEqual([bob]);
    expect(await search('invoice', viewer(tenantId), { userId: alice })).toHaveLength(1);
  });

  it('works without the trigram index; the runtime role reads event_search only through its function', async () => {
    const { rows: indexes } = await sql<{ name: string }>`
      select indexname as name from pg_indexes where schemaname = 'audit'`.execute(fixture.admin);
    expect(indexes.map((index) => index.name)).not.toContain('event_search_trigrams');
    const runtime: Kysely<unknown> = createDatabase({
      connectionString: fixture.service.runtimeUrl,
      schema: 'audit',
      applicationName: 'search-test',
      maxConnections: 1,
    });
    try {
      await expect(sql`select * from event_search`.execute(runtime)).rejects.toThrow(
        /permission denied/,
      );
      await expect(
        sql`insert into event_search (tenant_id, seq, search_text)
          values (${tenantId}, 999, 'x')`.execute(runtime),
      ).rejects.toThrow(/row-level security/);
      const visible = await runtime.transaction().execute(async (trx) => {
        const matches = sql<{
          seq: number;
        }>`select seq from tenant_event_search('%', null, null, 100)`;
        const none = await matches.execute(trx);
        await sql`select set_config('app.tenant_id', ${otherTenant}, true)`.execute(trx);
        const other = await matches.execute(trx);
        return { none: none.rows.length, other: other.rows.length };
      });
      expect(visible).toEqual({ none: 0, other: 1 });
    } finally {
      await runtime.destroy();
    }
  });
});

describe('the search migration on a record that already exists', () => {
  it('makes the events stored before it searchable', async () => {
    const database = await createTestDatabase();
    const service = await database.provisionService('audit');
    const owner = createDatabase<unknown>({
      connectionString: service.ownerUrl,
      applicationName: 'search-migration-test',
      maxConnections: 1,
    });
    const admin = createDatabase<unknown>({
      connectionString: database.adminUrl,
      applicationName: 'search-migration-test',
      maxConnections: 1,
    });
    try {
      const [first] = Object.keys(migrations).sort();
      await migrateToLatest(owner, 'audit', { [first!]: migrations[first!]! }, service.roles);
      const tenantId = randomUUID();
      const envelope = signedTestEvent(generateSigningKey(), tenantId, {
        rationale: 'Archiving the old newsletters.',
      });
      const hash = Buffer.alloc(32, 1);
      await sql`insert into audit.events (tenant_id, seq, event_id, prev_hash, hash, leaf_hash,
          envelope, occurred_at, received_at, name, source, outcome)
        values (${tenantId}, 1, ${envelope.event.id}, ${hash}, ${hash}, ${hash},
          ${JSON.stringify(envelope)}, now(), now(), 'action.executed', 'gateway', 'success')`.execute(
        admin,
      );
      await sql`insert into audit.tenant_activity (tenant_id, seq) values (${tenantId}, 1)`.execute(
        admin,
      );
      await migrateToLatest(owner, 'audit', migrations, service.roles);
      const { rows } = await sql<{ search_text: string }>`
        select search_text from audit.event_search where tenant_id = ${tenantId}`.execute(admin);
      expect(rows.map((row) => row.search_text)).toEqual([
        expect.stringContaining('Archiving the old newsletters.'),
      ]);
    } finally {
      await owner.destroy();
      await admin.destroy();
      await database.drop();
    }
  });
});
