import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './config.js';
import { portInUse, startProcess, waitForPort } from './processes.js';
import { NATS_USERS, type DevSecrets, type NatsUser } from './secrets.js';

/** The NATS the platform runs on, and each user's credentials on it. */
export interface PlatformNats {
  readonly url: string;
  readonly description: string;
  credentials(user: NatsUser): { user?: string; password?: string };
  stop(): Promise<void>;
}

/** The environment variable deploy/nats/heroagent.conf reads a user's password from. */
export function natsPasswordVariable(user: NatsUser): string {
  return `HEROAGENT_NATS_${user.toUpperCase().replaceAll('-', '_')}_PASSWORD`;
}

/** Uses the NATS at `url` as it is: services connect without users, and its permissions apply. */
export function externalNats(url: string): PlatformNats {
  return {
    url,
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
  const config = join(REPO_ROOT, 'deploy', 'nats', 'heroagent.conf');
  const env = {
    ...options.inheritedEnv,
    ...Object.fromEntries(
      NATS_USERS.map((user) => [natsPasswordVariable(user), options.secrets.nats[user]]),
    ),
  };
  const server = startProcess(
    'nats-server',
    'nats-server',
    ['-c', config, '-a', '127.0.0.1', '-p', String(options.port), '-js', '-sd', storeDir],
    { env, logFile: join(logDir, 'nats-server.log') },
  );
  await waitForPort(options.port, server.exited, 15_000);
  return {
    url: `nats://127.0.0.1:${options.port}`,
    description: `${version}, nats://127.0.0.1:${options.port}, JetStream in ${storeDir}, permissions from deploy/nats/heroagent.conf`,
    credentials: (user) => ({ user, password: options.secrets.nats[user] }),
    stop: () => server.stop('SIGTERM', 15_000),
  };
}
