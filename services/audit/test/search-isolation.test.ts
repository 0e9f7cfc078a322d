import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import { generateSigningKey } from '@heroagent/crypto';
import { createDatabase, migrateToLatest, sql, type Kysely } from '@heroagent/db';
import {
  createTestDatabase,
  type ProvisionedService,
  type TestDatabase,
} from '@heroagent/db/testing';
import { migrations } from '../migrations/index.js';

/**
 * The activity search attacked by the audit service's own runtime role, which may set any
 * tenant and create temporary functions: first against the view of migration 20261126021500 (it
 * leaked), then against the definer function that replaced it (it does not).
 */
describe('the activity search across tenants', { timeout: 60_000 }, () => {
  let database: TestDatabase;
  let service: ProvisionedService;
  let admin: Kysely<unknown>;
  let owner: Kysely<unknown>;
  let runtime: Kysely<unknown>;
  const mine = randomUUID();
  const theirs = randomUUID();
  const connect = (url: string, schema?: string) =>
    createDatabase<unknown>({
      connectionString: url,
      ...(schema === undefined ? {} : { schema }),
      applicationName: 'search-isolation-test',
      maxConnections: 1,
    });

  /** As the runtime role, in tenant `mine`, with a function that throws what it is given. */
  const asAttacker = <T>(statement: string) =>
    runtime.transaction().execute(async (trx) => {
      await sql`select set_config('app.tenant_id', ${mine}, true)`.execute(trx);
      // Nothing stops the role steering the plan towards evaluating its filter first.
      await sql`set local enable_indexscan = off`.execute(trx);
      await sql`set local enable_bitmapscan = off`.execute(trx);
      await sql`
        create or replace function pg_temp.leak(value text) returns boolean
        language plpgsql cost 0.0001 as $$
        begin
          if value like '%merger%' then raise exception 'LEAKED: %', value; end if;
          return true;
        end $$`.execute(trx);
      return (await sql.raw<T>(statement).execute(trx)).rows;
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    admin = connect(database.adminUrl);
    // As a deploy step would: the search then has its trigram index.
    await sql`create extension if not exists pg_trgm`.execute(admin);
    service = await database.provisionService('audit');
    owner = connect(service.ownerUrl, 'audit');
    runtime = connect(service.runtimeUrl, 'audit');
    const before = Object.keys(migrations)
      .sort()
      .filter((name) => name <= '20261126021500_add_activity_search');
    await migrateToLatest(
      owner,
      'audit',
      Object.fromEntries(before.map((name) => [name, migrations[name]!])),
      service.roles,
    );
    const key = generateSigningKey();
    const stored: Array<[string, number, string]> = [
      [mine, 1, 'Booking the team offsite.'],
      [mine, 2, 'Paying the venue.'],
      [theirs, 1, 'Emailing the board about the secret merger.'],
    ];
    for (const [tenantId, seq, rationale] of stored) {
      const envelope = signedTestEvent(key, tenantId, { rationale });
      const hash = Buffer.alloc(32, seq);
      await sql`insert into audit.events (tenant_id, seq, event_id, prev_hash, hash, leaf_hash,
          envelope, occurred_at, received_at, name, source, outcome)
        values (${tenantId}, ${seq}, ${envelope.event.id}, ${hash}, ${hash}, ${hash},
          ${JSON.stringify(envelope)}, now(), now(), 'action.executed', 'gateway', 'success')`.execute(
        admin,
      );
    }
  });

  afterAll(async () => {
    for (const db of [runtime, owner, admin]) await db?.destroy();
    await database?.drop();
  });

  it('leaked through the view of 20261126021500, which was no security barrier', async () => {
    await expect(
      asAttacker(`select seq from tenant_event_search where pg_temp.leak(search_text)`),
    ).rejects.toThrow(/LEAKED: .*secret merger/);
  });

  describe('once migrated to the definer function', () => {
    beforeAll(async () => {
      // The two after 20261126021500 (later migrations follow them).
      expect((await service.migrate(migrations)).slice(0, 2)).toEqual([
        '20261127090000_cap_quarantine',
        '20261127100000_search_through_definer_function',
      ]);
    });

    it('keeps the table closed to the runtime role, leaky function or not', async () => {
      await expect(
        asAttacker(`select seq from event_search where pg_temp.leak(search_text)`),
      ).rejects.toThrow(/permission denied for table event_search/);
      await expect(asAttacker(`select seq from tenant_event_search`)).rejects.toThrow(
        /does not exist/,
      );
    });

    it('answers only the current tenant’s matches, whatever the caller filters with', async () => {
      expect(
        await asAttacker<{ seq: string }>(
          `select seq from tenant_event_search('%', null, null, 100) where pg_temp.leak(seq::text)
           order by seq`,
        ),
      ).toEqual([{ seq: 1 }, { seq: 2 }]);
      expect(
        await asAttacker(`select seq from tenant_event_search('%merger%', null, null, 100)`),
      ).toEqual([]);
      expect(
        await asAttacker(`select seq from tenant_event_search('%venue%', 2, null, 100)`),
      ).toEqual([]);
      // With no tenant set, nothing.
      expect(
        (await sql`select * from tenant_event_search('%', null, null, 100)`.execute(runtime)).rows,
      ).toEqual([]);
    });

    it('finds what a query of the whole table finds, walking back or asking the index', async () => {
      // Thousands of events of two people: a common term (5 %), rarer ones, none.
      const [alice, bob] = [randomUUID(), randomUUID()];
      await sql`insert into audit.events (tenant_id, seq, event_id, prev_hash, hash, leaf_hash,
          envelope, occurred_at, received_at, name, source, user_id, outcome)
        select ${mine}, 2 + i, gen_random_uuid(), ${Buffer.alloc(32)}, ${Buffer.alloc(32)},
          ${Buffer.alloc(32)},
          json_build_object('event', json_build_object('rationale',
            case when i % 20 = 0 then 'Paying the invoice ' else 'Filing ' end || md5(i::text)
          ))::text,
          now(), now(), 'action.executed', 'gateway',
          case when i % 3 = 0 then ${alice}::uuid else ${bob}::uuid end, 'success'
        from generate_series(1, 6000) as i`.execute(admin);
      const mismatches: string[] = [];
      let compared = 0;
      for (const pattern of ['%invoice%', '%abc%', '%12%', '%zzz%', '%offsite%'])
        for (const before of [null, 4000, 50])
          for (const user of [null, alice])
            for (const rows of [1, 50, 200, 3200]) {
              const { rows: expected } = await sql<{ seq: string }>`
                select seq from audit.event_search where tenant_id = ${mine}
                  and search_text ilike ${pattern} and (${before}::bigint is null or seq < ${before})
                  and (${user}::uuid is null or user_id = ${user})
                order by seq desc limit ${rows}`.execute(admin);
              const got = await runtime.transaction().execute(async (trx) => {
                await sql`select set_config('app.tenant_id', ${mine}, true)`.execute(trx);
                return (
                  await sql<{ seq: string }>`select seq from tenant_event_search(${pattern},
                    ${before}::bigint, ${user}::uuid, ${rows})`.execute(trx)
                ).rows;
              });
              compared += expected.length;
              if (JSON.stringify(got) !== JSON.stringify(expected))
                mismatches.push(`${pattern} before ${before} by ${user} ${rows}`);
            }
      expect(mismatches).toEqual([]);
      expect(compared).toBeGreaterThan(2000);
    });

    it('runs with a fixed search_path, as its owner, for the runtime role only', async () => {
      const { rows } = await sql<{
        definer: boolean;
        config: string[];
        public_may: boolean;
        runtime_may: boolean;
      }>`
        select p.prosecdef as definer, p.proconfig as config,
          has_function_privilege('public', p.oid, 'execute') as public_may,
          has_function_privilege(${service.roles.runtime}, p.oid, 'execute') as runtime_may
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'audit' and p.proname = 'tenant_event_search'`.execute(admin);
      expect(rows).toEqual([
        {
          definer: true,
          config: ['search_path=audit, pg_temp'],
          public_may: false,
          runtime_may: true,
        },
      ]);
    });

    it('keeps the trigram index usable by the function’s query', async () => {
      const plan = await owner.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        await sql`set local enable_indexscan = off`.execute(trx);
        return (
          // Under a tenant policy the ILIKE (not leakproof) could only filter what the tenant
          // index found; as the function's owner it may drive the trigram index.
          (
            await sql<{ 'QUERY PLAN': string }>`explain select s.seq from event_search s
            where s.search_text ilike '%offsite%'`.execute(trx)
          ).rows
            .map((row) => row['QUERY PLAN'])
            .join('\n')
        );
      });
      expect(plan).toContain('event_search_trigrams');
    });

    it('forces row-level security on event_search and quarantine; the quarantine is write-only', async () => {
      const { rows } = await sql<{ relname: string; forced: boolean }>`
        select relname, relrowsecurity and relforcerowsecurity as forced from pg_class
        where relnamespace = 'audit'::regnamespace and relname in ('event_search', 'quarantine')
        order by relname`.execute(admin);
      expect(rows).toEqual([
        { relname: 'event_search', forced: true },
        { relname: 'quarantine', forced: true },
      ]);
      await expect(sql`select * from quarantine`.execute(runtime)).rejects.toThrow(
        /permission denied/,
      );
      await sql`insert into quarantine (subject, reason, detail, payload, payload_sha256, payload_bytes)
        values ('audit.events.x', 'MALFORMED', 'test', '\\x00', sha256('\\x00'), 1)`.execute(
        runtime,
      );
      const { rows: kept } = await sql`select * from audit.quarantine`.execute(admin);
      expect(kept).toHaveLength(1);
    });
  });
});
