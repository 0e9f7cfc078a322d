import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkMigrated,
  checkServiceRole,
  createDatabase,
  type DatabaseError,
  migrateToLatest,
  provisionServiceDatabase,
  sql,
  type Kysely,
  type MigrationSet,
} from '../src/index.js';
import { createTestDatabase, type ProvisionedService, type TestDatabase } from '../src/testing.js';

const SCHEMA = 'jobs_service';

// A frozen migration as a service keeps one: the job's role name comes from the runner, as a
// setting, never from the migration's text.
const migrations: MigrationSet = {
  '20261127080000_create_queue': {
    async up(db) {
      await sql`create table queue (id int primary key, tenant_id uuid not null)`.execute(db);
      await sql`alter table queue enable row level security`.execute(db);
      await sql`alter table queue force row level security`.execute(db);
      await sql`
        do $$ begin
          execute format('grant select on queue to %I', current_setting('heroagent.relay_role'));
          execute format('create policy queue_relay on queue for select to %I using (true)',
            current_setting('heroagent.relay_role'));
        end $$`.execute(db);
    },
  },
};

const codeOf = (code: string) => expect.objectContaining({ code }) as DatabaseError;

describe('roles of a service: provisioning, the migrate step, the checks at boot', () => {
  let testDb: TestDatabase;
  let service: ProvisionedService;
  let admin: Kysely<unknown>;
  const open: Kysely<unknown>[] = [];
  const connect = (url: string) => {
    const db = createDatabase<unknown>({
      connectionString: url,
      schema: SCHEMA,
      applicationName: 'roles-test',
      maxConnections: 1,
    });
    open.push(db);
    return db;
  };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    service = await testDb.provisionService(SCHEMA, { jobs: ['relay'] });
    admin = connect(testDb.adminUrl);
  });

  afterAll(async () => {
    for (const db of open) await db.destroy();
    await testDb?.drop();
  });

  it('creates job roles that log in, bypass nothing and own nothing, idempotently', async () => {
    await provisionServiceDatabase(admin, service.plan);
    const { rows } = await sql<{
      rolname: string;
      rolcanlogin: boolean;
      rolsuper: boolean;
      rolbypassrls: boolean;
      rolcreaterole: boolean;
    }>`select rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole from pg_roles
      where rolname = ${service.roles.relay!}`.execute(admin);
    expect(rows).toEqual([
      {
        rolname: service.roles.relay,
        rolcanlogin: true,
        rolsuper: false,
        rolbypassrls: false,
        rolcreaterole: false,
      },
    ]);
    expect(await checkServiceRole(connect(service.jobUrls.relay!), SCHEMA)).toBe(
      service.roles.relay,
    );
  });

  it('refuses bad job names and roles named twice, before creating anything', async () => {
    const plan = service.plan;
    const job = { job: 'relay', role: `${testDb.name}_other`, password: 'p'.repeat(20) };
    for (const jobRoles of [
      [{ ...job, job: 'Relay!' }],
      [{ ...job, job: 'runtime' }],
      [{ ...job, role: plan.runtimeRole }],
      [job, { ...job, role: `${testDb.name}_another` }],
    ]) {
      await expect(provisionServiceDatabase(admin, { ...plan, jobRoles })).rejects.toThrow(
        codeOf('INVALID_ROLE'),
      );
    }
    await expect(
      provisionServiceDatabase(admin, { ...plan, jobRoles: [{ ...job, role: 'Bad Name' }] }),
    ).rejects.toThrow(codeOf('INVALID_IDENTIFIER'));
    const { rows } = await sql`select from pg_roles where rolname like ${`${testDb.name}_an%`}
      or rolname = ${job.role}`.execute(admin);
    expect(rows).toEqual([]);
  });

  it('will not start a service on a schema the migrate step has not migrated', async () => {
    const runtime = connect(service.runtimeUrl);
    await expect(checkMigrated(runtime, SCHEMA, Object.keys(migrations))).rejects.toThrow(
      codeOf('NOT_MIGRATED'),
    );
    await expect(checkServiceRole(runtime, 'no_such_schema')).rejects.toThrow(
      codeOf('NOT_MIGRATED'),
    );
  });

  it('refuses to migrate as anyone but the schema owner, or for a role unfit to be given', async () => {
    const asOwner = connect(service.ownerUrl);
    await expect(
      migrateToLatest(connect(service.runtimeUrl), SCHEMA, migrations, service.roles),
    ).rejects.toThrow(codeOf('INVALID_ROLE'));
    await expect(migrateToLatest(admin, SCHEMA, migrations, service.roles)).rejects.toThrow(
      codeOf('INVALID_ROLE'),
    );
    await expect(
      migrateToLatest(asOwner, SCHEMA, migrations, { ...service.roles, relay: 'no_such_role' }),
    ).rejects.toThrow(codeOf('INVALID_ROLE'));
    await expect(
      migrateToLatest(asOwner, SCHEMA, migrations, {
        ...service.roles,
        relay: service.roles.runtime,
      }),
    ).rejects.toThrow(codeOf('INVALID_ROLE'));
    await expect(
      migrateToLatest(asOwner, SCHEMA, migrations, {
        ...service.roles,
        relay: service.plan.ownerRole,
      }),
    ).rejects.toThrow(codeOf('UNSAFE_ROLE'));
    await expect(
      migrateToLatest(asOwner, SCHEMA, migrations, { ...service.roles, relay: 'postgres' }),
    ).rejects.toThrow(codeOf('UNSAFE_ROLE'));
    await expect(
      migrateToLatest(asOwner, SCHEMA, migrations, { ...service.roles, 'Bad purpose': 'x' }),
    ).rejects.toThrow(codeOf('INVALID_ROLE'));
    // A migration that needs a role it was not given fails, naming itself, and leaves nothing.
    await expect(
      migrateToLatest(asOwner, SCHEMA, migrations, { runtime: service.roles.runtime }),
    ).rejects.toThrow(/20261127080000_create_queue.*heroagent\.relay_role/);
    const { rows } = await sql`select from pg_tables where tablename = 'queue'`.execute(admin);
    expect(rows).toEqual([]);
  });

  it('hands the migrations the role names, so grants and policies name the installation’s roles', async () => {
    expect(await service.migrate(migrations)).toEqual(['20261127080000_create_queue']);
    const { rows } = await sql<{ roles: string[] }>`
      select roles::text[] as roles from pg_policies where policyname = 'queue_relay'`.execute(
      admin,
    );
    expect(rows).toEqual([{ roles: [service.roles.relay] }]);
    const relay = connect(service.jobUrls.relay!);
    expect((await sql`select * from queue`.execute(relay)).rows).toEqual([]);
    await expect(sql`select * from queue`.execute(connect(service.runtimeUrl))).resolves.toEqual(
      expect.objectContaining({ rows: [] }),
    );
    // Run again, nothing to do.
    expect(await service.migrate(migrations)).toEqual([]);
  });

  it('lets the runtime role read the migration record and never change it', async () => {
    const runtime = connect(service.runtimeUrl);
    await checkMigrated(runtime, SCHEMA, Object.keys(migrations));
    await expect(
      checkMigrated(runtime, SCHEMA, [...Object.keys(migrations), '20991231000000_from_later']),
    ).rejects.toThrow(/lacks 1 migration\(s\) \(20991231000000_from_later\)/);
    await expect(sql`delete from migrations`.execute(runtime)).rejects.toThrow(/permission denied/);
    await expect(
      sql`insert into migrations (name, timestamp) values ('x', 'y')`.execute(runtime),
    ).rejects.toThrow(/permission denied/);
    await expect(sql`delete from migrations_lock`.execute(runtime)).rejects.toThrow(
      /permission denied/,
    );
  });

  it('lets a service run as its runtime or job role, and refuses the owner or a superuser', async () => {
    expect(await checkServiceRole(connect(service.runtimeUrl), SCHEMA)).toBe(service.roles.runtime);
    await expect(checkServiceRole(connect(service.ownerUrl), SCHEMA)).rejects.toThrow(
      /owns schema jobs_service.*never as the owner/,
    );
    await expect(checkServiceRole(admin, SCHEMA)).rejects.toThrow(codeOf('UNSAFE_ROLE'));
    await expect(checkServiceRole(admin, SCHEMA)).rejects.toThrow(/is a superuser/);
  });

  it('refuses, at boot, a runtime role that was given more than it should have', async () => {
    const runtime = service.roles.runtime;
    const asRuntime = connect(service.runtimeUrl);
    try {
      await sql.raw(`alter role "${runtime}" bypassrls`).execute(admin);
      await expect(checkServiceRole(asRuntime, SCHEMA)).rejects.toThrow(
        /bypasses row-level security/,
      );
      await sql.raw(`alter role "${runtime}" nobypassrls`).execute(admin);
      await sql.raw(`grant create on schema ${SCHEMA} to "${runtime}"`).execute(admin);
      await expect(checkServiceRole(asRuntime, SCHEMA)).rejects.toThrow(/may create objects/);
    } finally {
      await sql.raw(`alter role "${runtime}" nobypassrls`).execute(admin);
      await sql.raw(`revoke create on schema ${SCHEMA} from "${runtime}"`).execute(admin);
    }
    await expect(checkServiceRole(asRuntime, SCHEMA)).resolves.toBe(runtime);
  });
});
