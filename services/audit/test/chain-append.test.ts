import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncomingChecker } from '@heroagent/audit-chain';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import { exportEd25519PublicKey, generateSigningKey, toBase64Url } from '@heroagent/crypto';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { createTestDatabase, type TestDatabase } from '@heroagent/db/testing';
import { migrations } from '../migrations/index.js';
import { ChainRepository, type VerifiedEvent } from '../src/store/chain.repository.js';
import type { AuditDatabase } from '../src/store/tables.js';

/**
 * The chain append straight against Postgres, with more events of one tenant than one insert
 * statement takes (1,000), so the last statement (events in and head moved together) follows
 * others, and with redeliveries that force the careful redo.
 */
describe('appending a large batch to one chain', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  let db: Kysely<AuditDatabase>;
  let admin: Kysely<unknown>;
  let chain: ChainRepository;
  const tenantId = randomUUID();
  const producer = generateSigningKey();
  const checker = new IncomingChecker([
    {
      kid: producer.kid,
      service: 'gateway',
      publicKey: toBase64Url(exportEd25519PublicKey(producer.publicKey)),
      notBefore: '2020-01-01T00:00:00Z',
    },
  ]);
  const verified = (count: number): VerifiedEvent[] =>
    Array.from({ length: count }, () => {
      const result = checker.check({
        subject: `audit.events.${tenantId}`,
        data: Buffer.from(JSON.stringify(signedTestEvent(producer, tenantId))),
      });
      if (!result.ok) throw new Error(result.detail);
      return { ...result, receivedAt: new Date() };
    });
  const stored = async () => {
    const { rows } = await sql<{ seq: string; hash: Buffer; prev_hash: Buffer }>`
      select seq, hash, prev_hash from audit.events where tenant_id = ${tenantId} order by seq`.execute(
      admin,
    );
    const head = await sql<{ seq: string; hash: Buffer }>`
      select seq, hash from audit.chain_heads where tenant_id = ${tenantId}`.execute(admin);
    return { rows, head: head.rows[0]! };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const service = await database.provisionService('audit');
    await service.migrate(migrations);
    db = createDatabase<AuditDatabase>({
      connectionString: service.runtimeUrl,
      schema: 'audit',
      applicationName: 'chain-append-test',
    });
    admin = createDatabase<unknown>({
      connectionString: database.adminUrl,
      applicationName: 'chain-append-test-admin',
      maxConnections: 1,
    });
    chain = new ChainRepository(db, 2, { perTenantPerMinute: 10, totalPerMinute: 100 });
  });

  afterAll(async () => {
    await db?.destroy();
    await admin?.destroy();
    await database?.drop();
  });

  it('stores 2,500 events in chain order and moves the head to the last', async () => {
    const outcome = await chain.appendBatch(verified(2_500), []);
    expect(outcome).toMatchObject({ appended: 2_500, duplicates: 0, quarantined: [] });
    expect(outcome.heads.get(tenantId)).toBe(2_500);
    const { rows, head } = await stored();
    expect(rows.map((row) => Number(row.seq))).toEqual(
      Array.from({ length: 2_500 }, (_, index) => index + 1),
    );
    rows
      .slice(1)
      .forEach((row, index) => expect(row.prev_hash.equals(rows[index]!.hash)).toBe(true));
    expect(Number(head.seq)).toBe(2_500);
    expect(head.hash.equals(rows.at(-1)!.hash)).toBe(true);
  });

  it('stores a redelivered batch once: the new events after the old, the head moved once', async () => {
    const before = await stored();
    const again = verified(3);
    const first = await chain.appendBatch(again.slice(0, 1), []);
    expect(first.appended).toBe(1);
    // The last statement meets an id already stored: the whole lane is redone carefully.
    const outcome = await chain.appendBatch([...again.slice(1), again[0]!], []);
    expect(outcome).toMatchObject({ appended: 2, duplicates: 1, quarantined: [] });
    const { rows, head } = await stored();
    expect(rows).toHaveLength(before.rows.length + 3);
    expect(Number(head.seq)).toBe(2_503);
    expect(head.hash.equals(rows.at(-1)!.hash)).toBe(true);
    rows
      .slice(1)
      .forEach((row, index) => expect(row.prev_hash.equals(rows[index]!.hash)).toBe(true));
  });
});
