import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { natsEnvSchema, parseConfig, type NatsConfig } from '../config.js';
import { NATS_IDENTITIES, natsPasswordVariable, type NatsIdentity } from '../nats/subjects.js';
import { natsConnectionOptions } from '../nats/transport.js';
import { natsPassword, startNatsServer, type TestNatsServer } from './nats-server.js';

/** A nats-server under deploy/nats/heroagent.conf, with a fresh password for every user. */
export interface DeployNatsServer extends TestNatsServer {
  readonly passwords: Readonly<Record<NatsIdentity, string>>;
  /** The NATS settings of one identity, as a service's environment would give them. */
  config(identity: NatsIdentity, extra?: Record<string, string>): NatsConfig;
  /** Connects as one identity, with its own inbox prefix; fails at once if refused. */
  connectAs(identity: NatsIdentity, options?: Partial<ConnectionOptions>): Promise<NatsConnection>;
}

/** deploy/nats/heroagent.conf, found from here whether this runs from the sources or a build. */
export function deployNatsConfigFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('deploy/nats/heroagent.conf not found above this package');
    dir = parent;
  }
  return join(dir, 'deploy', 'nats', 'heroagent.conf');
}

/**
 * Starts nats-server (with JetStream unless told otherwise) on a free port with the production
 * permissions of deploy/nats, as the platform runs under them.
 */
export async function startDeployNatsServer(
  options: { jetstream?: boolean } = {},
): Promise<DeployNatsServer> {
  const passwords = Object.fromEntries(
    NATS_IDENTITIES.map((identity) => [identity, natsPassword()]),
  ) as Record<NatsIdentity, string>;
  const server = await startNatsServer({
    config: await readFile(deployNatsConfigFile(), 'utf8'),
    env: Object.fromEntries(
      NATS_IDENTITIES.map((identity) => [natsPasswordVariable(identity), passwords[identity]]),
    ),
    jetstream: options.jetstream ?? true,
  });
  const config = (identity: NatsIdentity, extra: Record<string, string> = {}) =>
    parseConfig(natsEnvSchema, {
      NATS_URL: server.url,
      NATS_USER: identity,
      NATS_PASSWORD: passwords[identity],
      ...extra,
    });
  return {
    ...server,
    passwords,
    config,
    connectAs: (identity, extra = {}) =>
      connect({
        ...natsConnectionOptions(config(identity), identity),
        maxReconnectAttempts: 0,
        waitOnFirstConnect: false,
        ...extra,
      }),
  };
}
