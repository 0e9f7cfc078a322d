import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './config.js';
import type { DevTls } from './dev-ca.js';
import { portInUse, startProcess, waitForPort } from './processes.js';
import { NATS_USERS, type DevSecrets, type NatsUser } from './secrets.js';

/** The NATS the platform runs on, and each user's credentials on it. */
export interface PlatformNats {
  readonly url: string;
  readonly description: string;
  credentials(user: NatsUser): { user?: string; password?: string };
  /** The NATS_TLS_* variables every connection to it needs (none for plain NATS). */
  readonly tlsEnv: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** The environment variable deploy/nats/heroagent.conf reads a user's password from. */
export function natsPasswordVariable(user: NatsUser): string {
  return `HEROAGENT_NATS_${user.toUpperCase().replaceAll('-', '_')}_PASSWORD`;
}

/** Uses the NATS at `url` as it is: services connect without users, and its permissions apply. */
export function externalNats(url: string, tlsEnv: Readonly<Record<string, string>>): PlatformNats {
  return {
    url,
    tlsEnv,
    description: `external, ${url} (its own permissions apply, not deploy/nats)`,
    credentials: () => ({}),
    stop: () => Promise.resolve(),
  };
}

/**
 * Starts `nats-server` from PATH with JetStream and deploy/nats/heroagent.conf, so services run
 * under the same per-subject permissions as in production.
 */
export async function spawnedNats(options: {
  home: string;
  port: number;
  secrets: DevSecrets;
  inheritedEnv: Readonly<Record<string, string>>;
  /** Mutual TLS with the development CA: every client presents a certificate it signed. */
  tls?: DevTls;
  /** Its monitoring endpoint (connz, varz) on 127.0.0.1, if wanted. */
  monitorPort?: number;
}): Promise<PlatformNats> {
  const version = await promisify(execFile)('nats-server', ['--version']).then(
    (result) => result.stdout.trim(),
    () => {
      throw new Error(
        'nats-server is not on PATH. Install it (Debian/Ubuntu: `apt-get install nats-server`; ' +
          'elsewhere: https://github.com/nats-io/nats-server/releases), or set NATS_URL to a running server.',
      );
    },
  );
  if (await portInUse(options.port)) {
    throw new Error(
      `port ${options.port} is taken: set HEROAGENT_NATS_PORT to a free port, or NATS_URL`,
    );
  }
  const logDir = join(options.home, 'logs');
  const storeDir = join(options.home, 'nats');
  await mkdir(logDir, { recursive: true });
  await mkdir(storeDir, { recursive: true });
  const deployConfig = join(REPO_ROOT, 'deploy', 'nats', 'heroagent.conf');
  const config =
    options.tls === undefined ? deployConfig : await withTls(deployConfig, options.tls, storeDir);
  const env = {
    ...options.inheritedEnv,
    ...Object.fromEntries(
      NATS_USERS.map((user) => [natsPasswordVariable(user), options.secrets.nats[user]]),
    ),
  };
  const server = startProcess(
    'nats-server',
    'nats-server',
    [
      '-c',
      config,
      '-a',
      '127.0.0.1',
      '-p',
      String(options.port),
      '-js',
      '-sd',
      storeDir,
      ...(options.monitorPort === undefined ? [] : ['-m', String(options.monitorPort)]),
    ],
    { env, logFile: join(logDir, 'nats-server.log') },
  );
  await waitForPort(options.port, server.exited, 15_000);
  const url = `${options.tls === undefined ? 'nats' : 'tls'}://127.0.0.1:${options.port}`;
  return {
    url,
    tlsEnv:
      options.tls === undefined
        ? {}
        : {
            NATS_TLS_CA_FILE: options.tls.caFile,
            NATS_TLS_CERT_FILE: options.tls.clientCertFile,
            NATS_TLS_KEY_FILE: options.tls.clientKeyFile,
          },
    description: `${version}, ${url}${options.tls === undefined ? '' : ' (mutual TLS)'}, JetStream in ${storeDir}, permissions from deploy/nats/heroagent.conf`,
    credentials: (user) => ({ user, password: options.secrets.nats[user] }),
    stop: () => server.stop('SIGTERM', 15_000),
  };
}

/**
 * deploy/nats/heroagent.conf with a `tls` block added: the development server certificate, client
 * certificates required and verified against the development CA (mutual TLS). nats-server 2.9
 * has no setting for the least TLS version; the clients refuse anything below TLS 1.3.
 */
async function withTls(deployConfig: string, tls: DevTls, dir: string): Promise<string> {
  const file = join(dir, 'heroagent-tls.conf');
  const quoted = (path: string) => JSON.stringify(path);
  await writeFile(
    file,
    [
      `# Written by \`pnpm start\` (HEROAGENT_TLS=on): ${deployConfig} with mutual TLS.`,
      await readFile(deployConfig, 'utf8'),
      'tls {',
      `  cert_file: ${quoted(tls.serverCertFile)}`,
      `  key_file: ${quoted(tls.serverKeyFile)}`,
      `  ca_file: ${quoted(tls.caFile)}`,
      '  verify: true',
      '  timeout: 5',
      '}',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}
