import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { natsEnvSchema, parseConfig, type NatsConfig } from '../config.js';
import { NATS_IDENTITIES, natsPasswordVariable, type NatsIdentity } from '../nats/subjects.js';
import { natsConnectionOptions } from '../nats/transport.js';
import { deployNatsConfigFile, type DeployNatsServer } from './deploy-nats.js';
import { freePort, natsPassword, waitForPort } from './nats-server.js';

/**
 * nats-server nodes clustered with JetStream, each under deploy/nats/heroagent.conf (the
 * production permissions), on loopback. A node can be killed with SIGKILL and started again on
 * the same ports and store, as a pod is rescheduled onto its volume.
 */
export interface DeployNatsCluster extends DeployNatsServer {
  /** Every node's client URL. */
  readonly urls: readonly string[];
  /** Kills node `index` with SIGKILL (no shutdown, no flush). */
  kill(index: number): Promise<void>;
  /** Starts node `index` again on its ports and store; waits until it accepts connections. */
  restart(index: number): Promise<void>;
  /** Whether node `index` runs. */
  running(index: number): boolean;
}

interface Node {
  readonly name: string;
  readonly port: number;
  readonly routePort: number;
  readonly configFile: string;
  child?: ChildProcess;
  exited?: Promise<unknown>;
  stderr: string;
}

/** Starts `size` clustered nodes (3 unless told) and waits until JetStream has a meta leader. */
export async function startDeployNatsCluster(
  options: { size?: number } = {},
): Promise<DeployNatsCluster> {
  const size = options.size ?? 3;
  const passwords = Object.fromEntries(
    NATS_IDENTITIES.map((identity) => [identity, natsPassword()]),
  ) as Record<NatsIdentity, string>;
  const env = {
    ...process.env,
    ...Object.fromEntries(
      NATS_IDENTITIES.map((identity) => [natsPasswordVariable(identity), passwords[identity]]),
    ),
  };
  const dir = await mkdtemp(join(tmpdir(), 'heroagent-nats-cluster-'));
  const deployConfig = await readFile(deployNatsConfigFile(), 'utf8');
  const ports = await distinctFreePorts(size * 2);
  const nodes: Node[] = [];
  for (let index = 0; index < size; index += 1) {
    const name = `n${index + 1}`;
    const port = ports[index * 2]!;
    const routePort = ports[index * 2 + 1]!;
    const routes = ports
      .filter((_, at) => at % 2 === 1 && at !== index * 2 + 1)
      .map((other) => `nats-route://127.0.0.1:${other}`);
    const store = join(dir, name);
    await mkdir(store);
    const configFile = join(dir, `${name}.conf`);
    await writeFile(
      configFile,
      [
        deployConfig,
        `server_name: ${name}`,
        `host: 127.0.0.1`,
        `port: ${port}`,
        `jetstream { store_dir: "${store}" }`,
        `cluster {`,
        `  name: heroagent`,
        `  listen: 127.0.0.1:${routePort}`,
        `  routes: [${routes.map((route) => `"${route}"`).join(', ')}]`,
        `}`,
        '',
      ].join('\n'),
    );
    nodes.push({ name, port, routePort, configFile, stderr: '' });
  }

  const start = async (node: Node) => {
    const child = spawn('nats-server', ['-c', node.configFile], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    node.stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      node.stderr = (node.stderr + chunk.toString('utf8')).slice(-8192);
    });
    node.child = child;
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    node.exited = exited;
    await waitForPort(node.port, exited, () => node.stderr);
  };
  const kill = async (node: Node) => {
    const { child, exited } = node;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };

  try {
    await Promise.all(nodes.map(start));
  } catch (error) {
    await Promise.all(nodes.map(kill));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const urls = nodes.map((node) => `nats://127.0.0.1:${node.port}`);
  const url = urls.join(',');
  const config = (identity: NatsIdentity, extra: Record<string, string> = {}): NatsConfig =>
    parseConfig(natsEnvSchema, {
      NATS_URL: url,
      NATS_USER: identity,
      NATS_PASSWORD: passwords[identity],
      ...extra,
    });
  const connectAs = (identity: NatsIdentity, extra: Partial<ConnectionOptions> = {}) =>
    connect({ ...natsConnectionOptions(config(identity), identity), ...extra });
  const nodeAt = (index: number): Node => {
    const node = nodes[index];
    if (node === undefined) throw new Error(`no node ${index} in a cluster of ${size}`);
    return node;
  };
  const cluster: DeployNatsCluster = {
    url,
    urls,
    port: nodes[0]!.port,
    passwords,
    config,
    connectAs,
    kill: (index) => kill(nodeAt(index)),
    restart: async (index) => {
      const node = nodeAt(index);
      await kill(node);
      await start(node);
    },
    running: (index) => {
      const child = nodeAt(index).child;
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      await Promise.all(
        nodes.map(async (node) => {
          const { child, exited } = node;
          if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          await exited;
        }),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await untilJetStreamClustered(() => connectAs('provisioner'));
  } catch (error) {
    await cluster.stop();
    throw new Error(
      `the cluster formed no JetStream meta leader: ${String(error)}\n${nodes.map((n) => n.stderr).join('\n')}`,
      { cause: error },
    );
  }
  return cluster;
}

/** Waits until `$JS.API.INFO` answers through a node: the meta group has elected a leader. */
async function untilJetStreamClustered(open: () => Promise<NatsConnection>): Promise<void> {
  const connection = await open();
  try {
    let last: unknown;
    for (let attempt = 0; attempt < 150; attempt += 1) {
      try {
        const reply = await connection.request('$JS.API.INFO', undefined, { timeout: 1000 });
        const info = reply.json<{ error?: { description: string } }>();
        if (info.error === undefined) return;
        last = info.error.description;
      } catch (error) {
        last = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(String(last));
  } finally {
    await connection.close();
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
