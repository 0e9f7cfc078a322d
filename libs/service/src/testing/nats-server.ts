import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A nats-server started by a test, on a free loopback port, with its own config. */
export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Starts `nats-server` from PATH with `config` (nats-server syntax) and `env` (for `$VARIABLE`
 * references such as passwords) on a free port, and waits until it accepts connections.
 */
export async function startNatsServer(
  options: { config?: string; env?: Record<string, string>; jetstream?: boolean } = {},
): Promise<TestNatsServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'heroagent-nats-'));
  const configFile = join(dir, 'nats.conf');
  await writeFile(configFile, options.config ?? '');
  const args = ['-c', configFile, '-a', '127.0.0.1', '-p', String(port)];
  if (options.jetstream) args.push('-js', '-sd', join(dir, 'jetstream'));
  const child: ChildProcess = spawn('nats-server', args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await waitForPort(port, exited, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitForPort(
  port: number,
  exited: Promise<number | null>,
  stderr: () => string,
): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (gone) throw new Error(`nats-server exited: ${stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nats-server did not start on port ${port}: ${stderr()}`);
}

/**
 * A password nats-server accepts through a `$VARIABLE` in its config. nats-server parses the
 * variable's value as a config value, so it must read as a plain string: a letter, then letters
 * and digits (a leading digit is taken for a number, and fails).
 */
export function natsPassword(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(32);
  let password = alphabet[bytes[0]! % 52]!;
  for (const byte of bytes.subarray(1)) password += alphabet[byte % 62]!;
  return password;
}
