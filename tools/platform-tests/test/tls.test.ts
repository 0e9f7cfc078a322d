import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { connect as natsConnect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql, type DatabaseTls } from '@heroagent/db';
import { VaultDouble } from '@heroagent/doubles';
import { natsConnectionOptions, natsEnvSchema, parseConfig } from '@heroagent/service';
import { freePort } from '@heroagent/service/testing';
import { createLogger } from '@heroagent/telemetry';
import { VaultConnection } from '@heroagent/vault-proxy';
import {
  issueServerCertificate,
  launch,
  natsTlsStandIn,
  postgresTlsStandIn,
  rogueCa,
  type Launch,
} from '../support/tls.js';

const logger = createLogger({ service: 'tls-test', level: 'silent' });

/** Distinct free ports (the OS may hand the same one out twice in a row). */
async function distinctPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** The TLS version a handshake with these options negotiates, or the error that ended it. */
function handshake(options: ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(options, () => {
      const protocol = socket.getProtocol() ?? 'none';
      socket.end();
      resolve(protocol);
    });
    socket.once('error', reject);
  });
}

function getJson(url: string, ca: Buffer): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const call = request(url, { ca }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        }),
      );
    });
    call.on('error', reject);
    call.end();
  });
}

/** Postgres's SSLRequest, then a TLS handshake over the same socket: the version negotiated. */
async function postgresHandshake(port: number, options: ConnectionOptions): Promise<string> {
  const socket = netConnect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const request = Buffer.alloc(8);
  request.writeInt32BE(8, 0);
  request.writeInt32BE(80_877_103, 4); // SSLRequest
  socket.write(request);
  const answer = await new Promise<string>((resolve) =>
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1', 0, 1))),
  );
  if (answer !== 'S') throw new Error(`Postgres answered ${answer} to SSLRequest`);
  return handshake({ ...options, socket });
}

/** Runs one query over a pool of its own with these TLS settings; resolves with its rows. */
async function queryOver<T>(url: string, tls: DatabaseTls | undefined, text: string) {
  const db = createDatabase<unknown>({
    connectionString: url,
    applicationName: 'tls-test',
    maxConnections: 1,
    ...(tls === undefined ? {} : { tls }),
  });
  try {
    return (await sql<T>`${sql.raw(text)}`.execute(db)).rows;
  } finally {
    await db.destroy();
  }
}

describe(
  'TLS 1.3 on every hop of `pnpm start` (HEROAGENT_TLS on, the default)',
  { timeout: 240_000 },
  () => {
    let home: string;
    let tlsDir: string;
    let ca: Buffer;
    let rogue: string;
    let launcher: Launch;
    let port: { http: number; nats: number; monitor: number; pg: number };
    let superuserUrl: string;
    let natsPasswords: Record<string, string>;

    beforeAll(async () => {
      home = await mkdtemp(join(tmpdir(), 'heroagent-tls-'));
      // The embedded Postgres runs as the postgres user and must traverse into its data folder.
      await chmod(home, 0o711);
      const [http, nats, monitor, pg] = await distinctPorts(4);
      port = { http: http!, nats: nats!, monitor: monitor!, pg: pg! };
      launcher = launch({
        HEROAGENT_HOME: home,
        HTTP_PORT: String(port.http),
        HEROAGENT_NATS_PORT: String(port.nats),
        HEROAGENT_NATS_MONITOR_PORT: String(port.monitor),
        HEROAGENT_PG_PORT: String(port.pg),
      });
      await launcher.waitFor('Press Ctrl-C to stop.');
      tlsDir = join(home, 'tls');
      ca = await readFile(join(tlsDir, 'ca.crt'));
      rogue = await rogueCa();
      const secrets = JSON.parse(await readFile(join(home, 'dev-secrets.json'), 'utf8')) as {
        postgresSuperuserPassword: string;
        nats: Record<string, string>;
      };
      superuserUrl = `postgres://postgres:${secrets.postgresSuperuserPassword}@127.0.0.1:${port.pg}/heroagent`;
      natsPasswords = secrets.nats;
    });

    afterAll(async () => {
      if (launcher !== undefined) {
        process.kill(launcher.pid, 'SIGINT');
        await launcher.exited;
      }
      await rm(home, { recursive: true, force: true });
    });

    it('starts every hop with TLS, and says so', () => {
      const output = launcher.output();
      expect(output).toContain(`https://127.0.0.1:${port.http}`);
      expect(output).toContain(`tls://127.0.0.1:${port.nats} (mutual TLS)`);
      expect(output).toContain('TLS 1.3 only (hostssl)');
      expect(output).toMatch(/gateway\s+info\s+serving HTTPS/);
      // The migrate steps ran against a Postgres that accepts nothing but TLS.
      expect(output).toMatch(/gateway\s+info\s+migrations applied/);
    });

    describe('the gateway’s HTTPS', () => {
      it('negotiates TLS 1.3, verified against the development CA, and answers /readyz', async () => {
        expect(await handshake({ host: '127.0.0.1', port: port.http, ca })).toBe('TLSv1.3');
        const ready = await getJson(`https://127.0.0.1:${port.http}/readyz`, ca);
        expect(ready.status).toBe(200);
        expect(ready.body).toMatchObject({ status: 'ready' });
      });

      it('refuses a client that offers at most TLS 1.2', async () => {
        await expect(
          handshake({ host: '127.0.0.1', port: port.http, ca, maxVersion: 'TLSv1.2' }),
        ).rejects.toThrow(/protocol version|alert/i);
      });

      it('is not trusted by a client that trusts another CA', async () => {
        await expect(handshake({ host: '127.0.0.1', port: port.http, ca: rogue })).rejects.toThrow(
          /self-signed|unable to verify|unable to get local issuer/i,
        );
      });
    });

    describe('NATS', () => {
      const tlsEnv = () => ({
        NATS_URL: `tls://127.0.0.1:${port.nats}`,
        NATS_TLS_CA_FILE: join(tlsDir, 'ca.crt'),
        NATS_TLS_CERT_FILE: join(tlsDir, 'client.crt'),
        NATS_TLS_KEY_FILE: join(tlsDir, 'client.key'),
      });

      it('carries every connection of every service over TLS 1.3 (the server’s connz)', async () => {
        const response = await fetch(`http://127.0.0.1:${port.monitor}/connz`);
        const connz = (await response.json()) as {
          connections: Array<{ name?: string; tls_version?: string }>;
        };
        const names = connz.connections.map((connection) => connection.name);
        for (const name of [
          'heroagent-gateway',
          'heroagent-gateway-relay',
          'heroagent-agent',
          'heroagent-vault-proxy',
          'heroagent-audit',
        ])
          expect(names).toContain(name);
        expect(connz.connections.length).toBeGreaterThanOrEqual(5);
        for (const connection of connz.connections)
          expect(connection.tls_version, connection.name).toBe('1.3');
      });

      it('lets in a client with the services’ settings, over TLS 1.3', async () => {
        const config = parseConfig(natsEnvSchema, {
          ...tlsEnv(),
          NATS_USER: 'audit',
          NATS_PASSWORD: natsPasswords.audit,
        });
        const connection = await natsConnect({
          ...natsConnectionOptions(config, 'audit'),
          name: 'tls-test-client',
          maxReconnectAttempts: 0,
          waitOnFirstConnect: false,
        });
        try {
          await connection.flush();
          const connz = (await (await fetch(`http://127.0.0.1:${port.monitor}/connz`)).json()) as {
            connections: Array<{ name?: string; tls_version?: string }>;
          };
          expect(
            connz.connections.find((entry) => entry.name === 'tls-test-client')?.tls_version,
          ).toBe('1.3');
        } finally {
          await connection.close();
        }
      });

      it('refuses a client without a certificate (mutual TLS), and a client refuses a server its CA did not sign', async () => {
        const attempt = (env: Record<string, string>) =>
          natsConnect({
            ...natsConnectionOptions(
              parseConfig(natsEnvSchema, {
                ...env,
                NATS_USER: 'audit',
                NATS_PASSWORD: natsPasswords.audit,
              }),
              'audit',
            ),
            maxReconnectAttempts: 0,
            waitOnFirstConnect: false,
            timeout: 3_000,
          });
        const {
          NATS_TLS_CERT_FILE: _cert,
          NATS_TLS_KEY_FILE: _key,
          ...withoutCertificate
        } = tlsEnv();
        await expect(attempt(withoutCertificate)).rejects.toThrow();
        const rogueFile = join(home, 'rogue-ca.crt');
        await writeFile(rogueFile, rogue);
        await expect(attempt({ ...tlsEnv(), NATS_TLS_CA_FILE: rogueFile })).rejects.toThrow(
          /self-signed|unable to verify|unable to get local issuer/i,
        );
      });

      it('the client refuses a server that offers at most TLS 1.2', async () => {
        // nats-server 2.9 has no least-version setting: the clients hold the line at TLS 1.3.
        const server = await natsTlsStandIn({
          cert: await readFile(join(tlsDir, 'server.crt')),
          key: await readFile(join(tlsDir, 'server.key')),
          maxVersion: 'TLSv1.2',
        });
        try {
          await expect(
            natsConnect({
              ...natsConnectionOptions(
                parseConfig(natsEnvSchema, {
                  ...tlsEnv(),
                  NATS_URL: `tls://127.0.0.1:${server.port}`,
                }),
                'audit',
              ),
              maxReconnectAttempts: 0,
              waitOnFirstConnect: false,
              timeout: 3_000,
            }),
          ).rejects.toThrow();
        } finally {
          await server.close();
        }
      });
    });

    describe('Postgres', () => {
      it('carries every connection of every service over TLS 1.3 (pg_stat_ssl)', async () => {
        const rows = await queryOver<{
          usename: string;
          application_name: string;
          ssl: boolean;
          version: string | null;
        }>(
          superuserUrl,
          { ca },
          `select a.usename, a.application_name, s.ssl, s.version
           from pg_stat_ssl s join pg_stat_activity a using (pid)
          where a.backend_type = 'client backend'`,
        );
        const services = rows.filter((row) => row.application_name.startsWith('heroagent-'));
        expect(services.map((row) => row.usename)).toEqual(
          expect.arrayContaining([
            'heroagent_gateway',
            'heroagent_gateway_relay',
            'heroagent_gateway_sweeper',
            'heroagent_agent',
            'heroagent_vault_proxy',
            'heroagent_audit',
          ]),
        );
        // Every client connection, this test's own included.
        for (const row of rows)
          expect({ who: row.application_name, ssl: row.ssl, version: row.version }).toEqual({
            who: row.application_name,
            ssl: true,
            version: 'TLSv1.3',
          });
      });

      it('refuses a connection without TLS, and one that offers at most TLS 1.2', async () => {
        await expect(queryOver(superuserUrl, undefined, 'select 1')).rejects.toThrow(
          /no pg_hba.conf entry .* no encryption/,
        );
        // The server's ssl_min_protocol_version, tested with a client that asks for less.
        await expect(
          postgresHandshake(port.pg, { host: '127.0.0.1', ca, maxVersion: 'TLSv1.2' }),
        ).rejects.toThrow(/protocol version|alert/i);
        expect(await postgresHandshake(port.pg, { host: '127.0.0.1', ca })).toBe('TLSv1.3');
      });

      it('createDatabase refuses a server its CA did not sign', async () => {
        await expect(queryOver(superuserUrl, { ca: rogue }, 'select 1')).rejects.toThrow(
          /self-signed|unable to verify|unable to get local issuer/i,
        );
      });

      it('createDatabase refuses a certificate of the right CA for another host name, and a server below TLS 1.3', async () => {
        const elsewhere = await issueServerCertificate(tlsDir, 'DNS:db.elsewhere.invalid');
        const wrongName = await postgresTlsStandIn(elsewhere);
        const tls12 = await postgresTlsStandIn({
          cert: await readFile(join(tlsDir, 'server.crt')),
          key: await readFile(join(tlsDir, 'server.key')),
          maxVersion: 'TLSv1.2',
        });
        try {
          await expect(
            queryOver(`postgres://postgres@127.0.0.1:${wrongName.port}/x`, { ca }, 'select 1'),
          ).rejects.toThrow(/altnames|does not match/i);
          await expect(
            queryOver(`postgres://postgres@127.0.0.1:${tls12.port}/x`, { ca }, 'select 1'),
          ).rejects.toThrow(/protocol version|alert/i);
        } finally {
          await wrongName.close();
          await tls12.close();
        }
      });
    });

    describe('Vault (the double, over HTTPS: `pnpm start` uses the embedded store)', () => {
      const serverTls = async () => ({
        cert: await readFile(join(tlsDir, 'server.crt')),
        key: await readFile(join(tlsDir, 'server.key')),
      });
      const connectTo = (vault: VaultDouble, caFile: string) =>
        VaultConnection.connect(
          {
            address: vault.address,
            caFile,
            timeoutMs: 3_000,
            auth: { method: 'token', token: vault.rootToken },
            strictWarnings: true,
          },
          logger,
        );

      it('vault-proxy’s connection verifies Vault against VAULT_CACERT and speaks TLS 1.3', async () => {
        const vault = await VaultDouble.start({ tls: await serverTls() });
        try {
          expect(vault.address).toMatch(/^https:/);
          const connection = await connectTo(vault, join(tlsDir, 'ca.crt'));
          expect(await connection.health()).toMatchObject({ sealed: false });
          await connection.close();
          expect(vault.requests.length).toBeGreaterThan(0);
          expect(new Set(vault.requests.map((recorded) => recorded.tls))).toEqual(
            new Set(['TLSv1.3']),
          );
        } finally {
          await vault.close();
        }
      });

      it('refuses a Vault its CA did not sign, and one that offers at most TLS 1.2', async () => {
        const rogueFile = join(home, 'rogue-vault-ca.crt');
        await writeFile(rogueFile, rogue);
        const vault = await VaultDouble.start({ tls: await serverTls() });
        const old = await VaultDouble.start({
          tls: { ...(await serverTls()), maxVersion: 'TLSv1.2' },
        });
        try {
          await expect(connectTo(vault, rogueFile)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
          await expect(connectTo(old, join(tlsDir, 'ca.crt'))).rejects.toMatchObject({
            code: 'UNAVAILABLE',
          });
          expect(vault.requests).toEqual([]);
          expect(old.requests).toEqual([]);
        } finally {
          await vault.close();
          await old.close();
        }
      });
    });
  },
);
