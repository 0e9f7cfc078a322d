import { randomBytes } from 'node:crypto';
import { access, chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_ADMIN_URL, type TestDatabase } from '@heroagent/db/testing';
import { freePort, launchNodeScript } from '@heroagent/service/testing';
import { sql, createDatabase } from '@heroagent/db';

const LAUNCHER = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const launch = (env: Record<string, string>) => launchNodeScript(LAUNCHER, env, 120_000);

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** GET over HTTPS, verifying the server against `caFile`: the status. */
async function httpsStatus(url: string, caFile: string): Promise<number> {
  const ca = await readFile(caFile);
  return new Promise((resolve, reject) => {
    const call = request(url, { ca }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    call.on('error', reject);
    call.end();
  });
}

/** Three distinct free ports (the OS may hand the same one out twice in a row). */
async function ports() {
  const taken = new Set<number>();
  const next = async () => {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    return port;
  };
  return { http: await next(), nats: await next(), pg: await next() };
}

describe('pnpm start (the launcher, built)', { timeout: 240_000 }, () => {
  let home: string;
  let database: TestDatabase;
  const rolePrefix = `ha_launch_${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    await access(LAUNCHER).catch(() => {
      throw new Error('tools/launcher is not built: run `pnpm build` (pnpm test does) first');
    });
    home = await mkdtemp(join(tmpdir(), 'heroagent-home-'));
    // The embedded Postgres runs as the postgres user and must traverse into its data folder.
    await chmod(home, 0o711);
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
    const admin = createDatabase<unknown>({
      connectionString: TEST_ADMIN_URL,
      applicationName: 'test',
    });
    try {
      const { rows } = await sql<{
        rolname: string;
      }>`select rolname from pg_roles where rolname like ${`${rolePrefix}%`}`.execute(admin);
      for (const { rolname } of rows) await sql.raw(`drop role "${rolname}"`).execute(admin);
    } finally {
      await admin.destroy();
    }
    await rm(home, { recursive: true, force: true });
  });

  it('brings up the four services on an external Postgres, reports each healthy, and stops all on SIGINT', async () => {
    const port = await ports();
    const launcher = launch({
      // Plain, as HEROAGENT_TLS=off asks (the embedded test below runs with TLS).
      HEROAGENT_TLS: 'off',
      DATABASE_URL: database.adminUrl,
      HEROAGENT_HOME: join(home, 'external'),
      HEROAGENT_ROLE_PREFIX: rolePrefix,
      HTTP_PORT: String(port.http),
      HEROAGENT_NATS_PORT: String(port.nats),
    });
    const output = await launcher.waitFor('Press Ctrl-C to stop.');
    expect(output).toContain('HeroAgent is running');
    // Each schema migrated by its own step, as its owner, before the services started.
    // (The agent owns no table yet: its step only starts its migration record.)
    for (const service of ['gateway', 'vault-proxy', 'audit'])
      expect(output).toMatch(new RegExp(`${service}\\s+info\\s+migrations applied`));
    expect(output).toMatch(/agent\s+info\s+schema already up to date/);
    const admin = createDatabase<unknown>({
      connectionString: database.adminUrl,
      applicationName: 'test',
      maxConnections: 1,
    });
    try {
      const { rows } = await sql<{ usename: string; application_name: string }>`
        select usename, application_name from pg_stat_activity
        where datname = ${database.name} and application_name like 'heroagent-%'`.execute(admin);
      // The services run as their runtime and job roles; nothing connects as an owner.
      expect(rows.length).toBeGreaterThan(0);
      const allowed = [
        'gateway',
        'gateway_relay',
        'gateway_sweeper',
        'vault_proxy',
        'audit',
        'agent',
      ];
      expect(
        rows.filter((row) => !allowed.map((role) => `${rolePrefix}_${role}`).includes(row.usename)),
      ).toEqual([]);
      expect(rows.map((row) => row.usename)).toEqual(
        expect.arrayContaining([`${rolePrefix}_gateway_relay`, `${rolePrefix}_gateway_sweeper`]),
      );
    } finally {
      await admin.destroy();
    }
    for (const service of ['agent', 'vault-proxy', 'audit'])
      expect(output).toMatch(new RegExp(`${service}\\s+NATS .* ok`));
    expect(output).toContain('permissions from deploy/nats/heroagent.conf');
    expect(output).toContain('tls          off (HEROAGENT_TLS=off)');
    expect(output).toMatch(/gateway\s+info\s+serving plain HTTP, without TLS/);

    const readiness = await fetch(`http://127.0.0.1:${port.http}/readyz`);
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toMatchObject({
      status: 'ready',
      services: { gateway: 'ok', agent: 'ok', 'vault-proxy': 'ok', audit: 'ok' },
    });
    // Development secrets were generated into the home folder, readable by the owner only.
    expect((await stat(join(home, 'external', 'dev-secrets.json'))).mode & 0o777).toBe(0o600);

    process.kill(launcher.pid, 'SIGINT');
    expect(await launcher.exited).toBe(0);
    expect(launcher.output()).toContain('[launcher] stopped.');
    expect(await listening(port.http)).toBe(false);
    expect(await listening(port.nats)).toBe(false);
    // The secrets were never printed.
    expect(launcher.output()).not.toMatch(/SERVICE_SIGNING_KEY|password/i);
  });

  it('runs on its own embedded Postgres when no DATABASE_URL is given, and again on the same data', async () => {
    const port = await ports();
    const env = {
      HEROAGENT_HOME: join(home, 'embedded'),
      HTTP_PORT: String(port.http),
      HEROAGENT_NATS_PORT: String(port.nats),
      HEROAGENT_PG_PORT: String(port.pg),
    };
    for (const round of ['first start', 'restart']) {
      const launcher = launch(env);
      const output = await launcher.waitFor('Press Ctrl-C to stop.');
      expect(output, round).toContain(`embedded, 127.0.0.1:${port.pg}/heroagent`);
      expect(output, round).toContain(
        round === 'first start' ? 'development secrets generated' : 'development secrets loaded',
      );
      // Each schema is migrated by its owner in a step of its own, before any service starts.
      expect(output, round).toContain(
        round === 'first start' ? 'migrations applied' : 'schema already up to date',
      );
      // The audit stream is provisioned (as the provisioner) before audit starts, every time.
      expect(output, round).toContain(
        `provision   stream AUDIT_EVENTS ${round === 'first start' ? 'created' : 'updated'}`,
      );
      // TLS by default: the gateway over HTTPS, verified against the development CA.
      expect(output, round).toContain(`https://127.0.0.1:${port.http}`);
      expect(output, round).toContain(`tls://127.0.0.1:${port.nats} (mutual TLS)`);
      expect(output, round).toContain('TLS 1.3 only (hostssl)');
      expect(output, round).toContain(
        round === 'first start' ? 'development CA generated' : 'development CA loaded',
      );
      for (const key of ['ca.key', 'server.key', 'client.key'])
        expect((await stat(join(home, 'embedded', 'tls', key))).mode & 0o777, key).toBe(0o600);
      expect(
        await httpsStatus(
          `https://127.0.0.1:${port.http}/readyz`,
          join(home, 'embedded', 'tls', 'ca.crt'),
        ),
        round,
      ).toBe(200);
      process.kill(launcher.pid, 'SIGINT');
      expect(await launcher.exited, round).toBe(0);
      expect(await listening(port.pg), round).toBe(false);
    }
  });

  it('refuses a bad variable by name, before starting anything', async () => {
    const launcher = launch({
      HTTP_PORT: 'eighty',
      NATS_URL: 'http://x',
      HEROAGENT_HOME: join(home, 'bad'),
    });
    expect(await launcher.exited).toBe(78);
    expect(launcher.output()).toContain('HTTP_PORT:');
    expect(launcher.output()).toContain('NATS_URL: must be a nats:// or tls:// URL');
    await expect(access(join(home, 'bad'))).rejects.toThrow();
  });

  it('explains how to get openssl, or do without TLS, when it is not installed', async () => {
    const launcher = launch({
      PATH: '/nonexistent',
      DATABASE_URL: database.adminUrl,
      HEROAGENT_ROLE_PREFIX: rolePrefix,
      HEROAGENT_HOME: join(home, 'no-openssl'),
      HEROAGENT_NATS_PORT: String(await freePort()),
    });
    expect(await launcher.exited).toBe(1);
    expect(launcher.output()).toContain('openssl is not on PATH');
    expect(launcher.output()).toContain('apt-get install openssl');
    expect(launcher.output()).toContain('HEROAGENT_TLS=off');
  });

  it('explains how to get nats-server when it is not installed', async () => {
    const launcher = launch({
      HEROAGENT_TLS: 'off',
      PATH: '/nonexistent',
      DATABASE_URL: database.adminUrl,
      HEROAGENT_ROLE_PREFIX: rolePrefix,
      HEROAGENT_HOME: join(home, 'no-nats'),
      HEROAGENT_NATS_PORT: String(await freePort()),
    });
    expect(await launcher.exited).toBe(1);
    expect(launcher.output()).toContain('nats-server is not on PATH');
    expect(launcher.output()).toContain('apt-get install nats-server');
  });
});
