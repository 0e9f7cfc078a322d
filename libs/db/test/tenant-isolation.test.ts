import { randomUUID } from 'node:crypto';
import type { Generated } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  type DatabaseError,
  enableTenantIsolationV1,
  migrateToLatest,
  sql,
  useTenant,
  withSettings,
  withTenant,
  type Kysely,
  type MigrationSet,
  type Transaction,
} from '../src/index.js';
import { createTestDatabase, type ProvisionedService, type TestDatabase } from '../src/testing.js';

interface NotesTable {
  id: Generated<string>;
  tenant_id: string;
  body: string;
}
interface Schema {
  notes: NotesTable;
}

// Frozen migrations, as a service would keep them: Kysely<any> in, nothing of the app imported.
const migrations: MigrationSet = {
  '20261125120000_create_notes': {
    async up(db) {
      await db.schema
        .createTable('notes')
        .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('tenant_id', 'uuid', (col) => col.notNull())
        .addColumn('body', 'text', (col) => col.notNull())
        .execute();
      await enableTenantIsolationV1(db, 'notes');
    },
  },
};

describe('tenant isolation with row-level security (real Postgres)', () => {
  let testDb: TestDatabase;
  let service: ProvisionedService;
  let app: Kysely<Schema>;
  const tenantA = randomUUID();
  const tenantB = randomUUID();

  beforeAll(async () => {
    testDb = await createTestDatabase();
    service = await testDb.provisionService('notes_service');
    const owner = createDatabase<unknown>({
      connectionString: service.ownerUrl,
      schema: 'notes_service',
      applicationName: 'test-migrate',
    });
    try {
      expect(await migrateToLatest(owner, 'notes_service', migrations, service.roles)).toEqual([
        '20261125120000_create_notes',
      ]);
      // A second run finds nothing to do.
      expect(await migrateToLatest(owner, 'notes_service', migrations, service.roles)).toEqual([]);
    } finally {
      await owner.destroy();
    }
    app = createDatabase<Schema>({
      connectionString: service.runtimeUrl,
      schema: 'notes_service',
      applicationName: 'test-app',
    });
    await withTenant(app, tenantA, (trx) =>
      trx
        .insertInto('notes')
        .values([
          { tenant_id: tenantA, body: 'a1' },
          { tenant_id: tenantA, body: 'a2' },
        ])
        .execute(),
    );
    await withTenant(app, tenantB, (trx) =>
      trx.insertInto('notes').values({ tenant_id: tenantB, body: 'b1' }).execute(),
    );
  });

  afterAll(async () => {
    await app?.destroy();
    await testDb?.drop();
  });

  it('shows a tenant only its own rows', async () => {
    const rowsA = await withTenant(app, tenantA, (trx) =>
      trx.selectFrom('notes').select('body').orderBy('body').execute(),
    );
    const rowsB = await withTenant(app, tenantB, (trx) =>
      trx.selectFrom('notes').select('body').execute(),
    );
    expect(rowsA.map((row) => row.body)).toEqual(['a1', 'a2']);
    expect(rowsB.map((row) => row.body)).toEqual(['b1']);
  });

  it('shows nothing, and writes nothing, without a tenant context', async () => {
    expect(await app.selectFrom('notes').selectAll().execute()).toEqual([]);
    await expect(
      app.insertInto('notes').values({ tenant_id: tenantA, body: 'sneaky' }).execute(),
    ).rejects.toThrow(/row-level security/);
    // The setting is transaction-local: it does not survive on the pooled connection.
    await withTenant(app, tenantA, () => Promise.resolve());
    expect(await app.selectFrom('notes').selectAll().execute()).toEqual([]);
  });

  it('refuses to write a row for another tenant from inside a tenant context', async () => {
    await expect(
      withTenant(app, tenantA, (trx) =>
        trx.insertInto('notes').values({ tenant_id: tenantB, body: 'cross' }).execute(),
      ),
    ).rejects.toThrow(/row-level security/);
    await expect(
      withTenant(app, tenantA, (trx) =>
        trx.updateTable('notes').set({ tenant_id: tenantB }).execute(),
      ),
    ).rejects.toThrow(/row-level security/);
    const rowsB = await withTenant(app, tenantB, (trx) =>
      trx.selectFrom('notes').select('body').execute(),
    );
    expect(rowsB.map((row) => row.body)).toEqual(['b1']);
  });

  it('runs as a role that is not a superuser, cannot bypass RLS and does not own the table', async () => {
    const { rows } = await sql<{ rolsuper: boolean; rolbypassrls: boolean; owns: boolean }>`
      select r.rolsuper, r.rolbypassrls,
             exists (select from pg_tables where tablename = 'notes' and tableowner = current_user) as owns
      from pg_roles r where r.rolname = current_user`.execute(app);
    expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, owns: false });

    await expect(
      app.transaction().execute(async (trx) => {
        await sql`set local row_security = off`.execute(trx);
        return trx.selectFrom('notes').selectAll().execute();
      }),
    ).rejects.toThrow(/row-level security/);
    await expect(sql`alter table notes disable row level security`.execute(app)).rejects.toThrow(
      /owner/,
    );
    await expect(sql`drop policy notes_tenant_isolation on notes`.execute(app)).rejects.toThrow(
      /owner/,
    );
    await expect(sql`set role postgres`.execute(app)).rejects.toThrow(/permission denied/);
  });

  it('keeps RLS on for the table owner too (forced)', async () => {
    const owner = createDatabase<Schema>({
      connectionString: service.ownerUrl,
      schema: 'notes_service',
      applicationName: 'test-owner',
    });
    try {
      expect(await owner.selectFrom('notes').selectAll().execute()).toEqual([]);
    } finally {
      await owner.destroy();
    }
  });

  it('refuses a tenant id that is not a UUID, before touching the database', async () => {
    for (const bad of ['', 'tenant-a', `${tenantA}' or '1'='1`]) {
      await expect(withTenant(app, bad, () => Promise.resolve())).rejects.toThrow(
        expect.objectContaining({ code: 'INVALID_TENANT_ID' }) as DatabaseError,
      );
    }
  });

  it('sets several app.* settings for one transaction only, and refuses bad names', async () => {
    const read = sql<{
      tenant: string | null;
      secret: string | null;
    }>`select current_setting('app.tenant_id', true) as tenant, current_setting('app.flow_hash', true) as secret`;
    const inside = await withSettings(
      app,
      {
        'app.tenant_id': tenantA.toUpperCase(),
        'app.flow_hash': 'abc123',
        'app.user_id': undefined,
      },
      async (trx) => {
        const notes = await trx.selectFrom('notes').select('body').orderBy('body').execute();
        return { notes: notes.map((row) => row.body), settings: (await read.execute(trx)).rows[0] };
      },
    );
    expect(inside).toEqual({
      notes: ['a1', 'a2'],
      settings: { tenant: tenantA, secret: 'abc123' },
    });
    const after = (await read.execute(app)).rows[0];
    expect([after?.tenant ?? '', after?.secret ?? '']).toEqual(['', '']);
    for (const name of ['tenant_id', 'app.Tenant', "app.x'; drop table notes; --", 'search_path']) {
      await expect(withSettings(app, { [name]: 'x' }, () => Promise.resolve())).rejects.toThrow(
        expect.objectContaining({ code: 'INVALID_IDENTIFIER' }) as DatabaseError,
      );
    }
    await expect(
      withSettings(app, { 'app.tenant_id': 'not-a-uuid' }, () => Promise.resolve()),
    ).rejects.toThrow(expect.objectContaining({ code: 'INVALID_TENANT_ID' }) as DatabaseError);
  });

  it('names the migration that failed and leaves nothing of it behind', async () => {
    const owner = createDatabase<unknown>({
      connectionString: service.ownerUrl,
      schema: 'notes_service',
      applicationName: 'test-migrate',
    });
    try {
      const broken: MigrationSet = {
        ...migrations,
        '20261125130000_create_broken': {
          async up(db) {
            await db.schema.createTable('half_done').addColumn('id', 'integer').execute();
            await sql`select * from no_such_table`.execute(db);
          },
        },
      };
      await expect(migrateToLatest(owner, 'notes_service', broken, service.roles)).rejects.toThrow(
        /20261125130000_create_broken.*failed/,
      );
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_tables where tablename = 'half_done'`.execute(owner);
      expect(rows[0]?.n).toBe(0);
      await expect(
        migrateToLatest(
          owner,
          'notes_service',
          { 'create-notes': migrations['20261125120000_create_notes']! },
          service.roles,
        ),
      ).rejects.toThrow(/YYYYMMDDHHmmss/);
    } finally {
      await owner.destroy();
    }
  });

  it('switches tenants inside one transaction, and skipping a repeated switch never leaves the wrong one', async () => {
    const bodies = (trx: Transaction<Schema>) =>
      trx
        .selectFrom('notes')
        .select('body')
        .orderBy('body')
        .execute()
        .then((rows) => rows.map((row) => row.body));
    const seen = await withSettings(app, { 'app.tenant_id': tenantA }, async (trx) => {
      const first = await bodies(trx);
      await useTenant(trx, tenantA); // already A: no round trip, still A
      const again = await bodies(trx);
      await useTenant(trx, tenantB);
      const switched = await bodies(trx);
      await useTenant(trx, tenantB.toUpperCase());
      const sameB = await bodies(trx);
      await useTenant(trx, tenantA);
      return [first, again, switched, sameB, await bodies(trx)];
    });
    expect(seen).toEqual([['a1', 'a2'], ['a1', 'a2'], ['b1'], ['b1'], ['a1', 'a2']]);
  });
  it('serialises transactions on an advisory lock key: exclusive holders one at a time, shared ones together', async () => {
    // Whether some session waits on an advisory lock right now (pg_locks, not a clock).
    const waiting = async () =>
      Number(
        (
          await sql<{ n: string }>`
            select count(*) as n from pg_locks
            where locktype = 'advisory' and not granted
              and database = (select oid from pg_database where datname = current_database())
          `.execute(app)
        ).rows[0]?.n ?? 0,
      );
    const until = async (condition: () => Promise<boolean>) => {
      while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const key = `person:${randomUUID()}`;
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = withTenant(
      app,
      tenantA,
      async () => {
        order.push('first in');
        await held;
        order.push('first out');
      },
      { exclusive: [key] },
    );
    await until(() => Promise.resolve(order.length === 1));
    const second = withTenant(
      app,
      tenantA,
      async (trx) => {
        order.push('second in');
        // The tenant was set in the same statement as the lock.
        return (await trx.selectFrom('notes').select('body').orderBy('body').execute()).length;
      },
      { exclusive: [key] },
    );
    await until(async () => (await waiting()) === 1);
    expect(order).toEqual(['first in']);
    release();
    expect(await second).toBe(2);
    await first;
    expect(order).toEqual(['first in', 'first out', 'second in']);

    // Shared holders do not wait for each other, and an exclusive one waits for them.
    let releaseShared!: () => void;
    const sharedHeld = new Promise<void>((resolve) => (releaseShared = resolve));
    let sharedIn = 0;
    const shared = [1, 2].map(() =>
      withTenant(
        app,
        tenantB,
        async () => {
          sharedIn += 1;
          await sharedHeld;
        },
        { shared: [key] },
      ),
    );
    await until(() => Promise.resolve(sharedIn === 2));
    let exclusiveIn = false;
    const exclusive = withTenant(
      app,
      tenantB,
      () => {
        exclusiveIn = true;
        return Promise.resolve();
      },
      { exclusive: [key] },
    );
    await until(async () => (await waiting()) === 1);
    expect(exclusiveIn).toBe(false);
    releaseShared();
    await Promise.all([...shared, exclusive]);
    expect(exclusiveIn).toBe(true);
  });
});
