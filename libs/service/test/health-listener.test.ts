import { Module, type DynamicModule } from '@nestjs/common';
import { healthContracts } from '@heroagent/contracts';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { createTestDatabase, type TestDatabase } from '@heroagent/db/testing';
import { createLogger } from '@heroagent/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  commonConfig,
  commonEnvSchema,
  HealthModule,
  parseConfig,
  postgresIndicator,
  startHealthListener,
  startService,
  type RunningService,
  type ServiceRuntime,
} from '../src/index.js';
import { freePort, startNatsServer, type TestNatsServer } from '../src/testing/index.js';

// The health listener of a NATS-only service (HEALTH_PORT), against a real Postgres and a
// nats-server this test starts: ready while both answer, not ready when the service's database
// role cannot connect or its NATS server is gone.
const logger = createLogger({ service: 'health-listener-test', level: 'silent' });

@Module({})
class ProbeModule {
  static register(runtime: ServiceRuntime<unknown>): DynamicModule {
    return {
      module: ProbeModule,
      imports: [
        HealthModule.forService(healthContracts.agent, runtime.identity, [
          postgresIndicator(runtime.db),
        ]),
      ],
    };
  }
}

const get = async (url: string, init?: RequestInit) => {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('the health listener of a NATS-only service', { timeout: 60_000 }, () => {
  let testDb: TestDatabase;
  let admin: Kysely<unknown>;
  let nats: TestNatsServer;
  let service: RunningService;
  let runtimeRole: string;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    const provisioned = await testDb.provisionService('probe');
    await provisioned.migrate({});
    runtimeRole = provisioned.plan.runtimeRole;
    admin = createDatabase({ connectionString: testDb.adminUrl, applicationName: 'probe-admin' });
    nats = await startNatsServer();
    const env = parseConfig(commonEnvSchema, {
      NATS_URL: nats.url,
      DATABASE_URL: provisioned.runtimeUrl,
      HEALTH_PORT: String(await freePort()),
    });
    service = await startService({
      service: 'agent',
      schema: 'probe',
      config: commonConfig(env),
      logger,
      migrations: {},
      module: (runtime) => ProbeModule.register(runtime),
    });
  });

  afterAll(async () => {
    await service?.close();
    await nats?.stop();
    await admin?.destroy();
    await testDb?.drop();
  });

  it('listens on loopback by default, and says it is alive', async () => {
    expect(service.health?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(`${service.health!.url}/healthz`)).toEqual({
      status: 200,
      body: { status: 'alive' },
    });
  });

  it('is ready while its database and NATS answer', async () => {
    expect(await get(`${service.health!.url}/readyz`)).toEqual({
      status: 200,
      body: { status: 'ready', checks: { postgres: 'up', nats: 'up' } },
    });
  });

  it('is not ready while its database role cannot connect, and ready again after', async () => {
    await sql.raw(`alter role "${runtimeRole}" nologin`).execute(admin);
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${runtimeRole}`.execute(
      admin,
    );
    try {
      const down = await get(`${service.health!.url}/readyz`);
      expect(down).toEqual({
        status: 503,
        body: { status: 'not_ready', checks: { postgres: 'down', nats: 'up' } },
      });
      // Still alive: the kubelet should not restart a process waiting for its database.
      expect((await get(`${service.health!.url}/healthz`)).status).toBe(200);
    } finally {
      await sql.raw(`alter role "${runtimeRole}" login`).execute(admin);
    }
    expect((await get(`${service.health!.url}/readyz`)).status).toBe(200);
  });

  it('is not ready once its NATS server is gone', async () => {
    await nats.stop();
    const down = await get(`${service.health!.url}/readyz`);
    expect(down).toEqual({
      status: 503,
      body: { status: 'not_ready', checks: { postgres: 'up', nats: 'down' } },
    });
  });
});

describe('the health listener itself', () => {
  it('answers only GET and HEAD on its two paths, and not ready when readiness throws', async () => {
    let fail = false;
    const listener = await startHealthListener({
      host: '127.0.0.1',
      port: 0,
      readiness: () =>
        fail
          ? Promise.reject(new Error('postgres://user:secret@db broke'))
          : Promise.resolve({ ready: true, checks: { postgres: 'up' as const } }),
      logger,
    });
    try {
      expect((await get(`${listener.url}/readyz`)).status).toBe(200);
      expect((await get(`${listener.url}/other`)).status).toBe(404);
      expect((await get(`${listener.url}/readyz`, { method: 'POST' })).status).toBe(405);
      fail = true;
      expect(await get(`${listener.url}/readyz`)).toEqual({
        status: 503,
        body: { status: 'not_ready', checks: {} },
      });
    } finally {
      await listener.close();
    }
  });

  it('is off unless HEALTH_PORT is set, and refuses a port that is no port', () => {
    const base = { DATABASE_URL: 'postgres://app@127.0.0.1/h' };
    expect(commonConfig(parseConfig(commonEnvSchema, base)).health).toEqual({
      port: undefined,
      host: '127.0.0.1',
    });
    expect(() => parseConfig(commonEnvSchema, { ...base, HEALTH_PORT: 'http' })).toThrow(
      /HEALTH_PORT: /,
    );
    expect(() => parseConfig(commonEnvSchema, { ...base, HEALTH_PORT: '70000' })).toThrow(
      /HEALTH_PORT: /,
    );
  });
});
