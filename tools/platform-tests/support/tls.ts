import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { REPO_ROOT } from './platform.js';

/** `pnpm start` (the built launcher) as a child process, its output collected. */
export interface Launch {
  readonly pid: number;
  output(): string;
  /** Resolves with the output once `text` appears; rejects if the launcher exits first. */
  waitFor(text: string, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<number | null>;
}

export function launch(env: Record<string, string>): Launch {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'tools/launcher/dist/main.js')], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    pid: child.pid!,
    output: () => output,
    exited,
    waitFor(text, timeoutMs = 150_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!output.includes(text)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(output);
        };
        const timer = setTimeout(
          () => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
        void exited.then(() => {
          clearTimeout(timer);
          if (!output.includes(text))
            reject(new Error(`launcher exited before "${text}":\n${output}`));
        });
        listeners.add(check);
        check();
      });
    },
  };
}

const run = promisify(execFile);

async function withConfig<T>(lines: string[], work: (config: string, dir: string) => Promise<T>) {
  const dir = await mkdtemp(join(tmpdir(), 'tls-test-'));
  try {
    const config = join(dir, 'openssl.cnf');
    await writeFile(config, `${lines.join('\n')}\n`);
    return await work(config, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A CA nobody trusts, self-signed with openssl: its certificate (PEM). */
export function rogueCa(): Promise<string> {
  return withConfig(
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = Rogue CA',
      '[ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign',
    ],
    async (config, dir) => {
      await run('openssl', [
        'req',
        '-x509',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'ca.key'),
        '-out',
        join(dir, 'ca.crt'),
        '-days',
        '1',
        '-config',
        config,
        '-extensions',
        'ca',
      ]);
      return readFile(join(dir, 'ca.crt'), 'utf8');
    },
  );
}

/** A server certificate and key issued by the CA in `caDir` (ca.crt, ca.key) for `subjectAltName`. */
export function issueServerCertificate(
  caDir: string,
  subjectAltName: string,
): Promise<{ cert: string; key: string }> {
  return withConfig(
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = elsewhere',
      '[leaf]',
      'basicConstraints = critical, CA:FALSE',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${subjectAltName}`,
    ],
    async (config, dir) => {
      await run('openssl', [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'leaf.key'),
        '-out',
        join(dir, 'leaf.csr'),
        '-config',
        config,
      ]);
      await run('openssl', [
        'x509',
        '-req',
        '-in',
        join(dir, 'leaf.csr'),
        '-CA',
        join(caDir, 'ca.crt'),
        '-CAkey',
        join(caDir, 'ca.key'),
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        '1',
        '-extfile',
        config,
        '-extensions',
        'leaf',
        '-out',
        join(dir, 'leaf.crt'),
      ]);
      return {
        cert: await readFile(join(dir, 'leaf.crt'), 'utf8'),
        key: await readFile(join(dir, 'leaf.key'), 'utf8'),
      };
    },
  );
}

/** What a stand-in server serves its TLS with. */
export interface StandInTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/** A listener on 127.0.0.1 that does the start of a protocol, then TLS, and nothing more. */
export interface StandIn {
  readonly port: number;
  close(): Promise<void>;
}

async function standIn(prelude: (socket: Socket) => Promise<void>, tls: StandInTls) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    void prelude(socket).then(() => {
      const secure = new TLSSocket(socket, { isServer: true, ...tls });
      secure.on('error', () => socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A stand-in for Postgres's TLS: it answers the client's SSLRequest with `S`, then speaks TLS
 * with the given certificate (and versions). What is tested is the client's verification.
 */
export function postgresTlsStandIn(tls: StandInTls): Promise<StandIn> {
  return standIn(
    (socket) =>
      new Promise((resolve) => {
        socket.once('data', () => {
          socket.write('S');
          resolve();
        });
      }),
    tls,
  );
}

/** A stand-in for a NATS server that requires TLS: its INFO, then TLS with the given versions. */
export function natsTlsStandIn(tls: StandInTls): Promise<StandIn> {
  return standIn((socket) => {
    const info = {
      server_id: 'stand-in',
      version: '2.9.10',
      proto: 1,
      host: '127.0.0.1',
      port: 4222,
      max_payload: 1_048_576,
      tls_required: true,
      tls_verify: false,
    };
    socket.write(`INFO ${JSON.stringify(info)}\r\n`);
    return Promise.resolve();
  }, tls);
}
