import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { issueCa, issueCertificate } from '@heroagent/service/certificates';
import { launchNodeScript, type LaunchedProcess } from '@heroagent/service/testing';
import { REPO_ROOT } from './platform.js';

/** `pnpm start` (the built launcher) as a child process, its output collected. */
export type Launch = LaunchedProcess;

export function launch(env: Record<string, string>): Launch {
  return launchNodeScript(join(REPO_ROOT, 'tools/launcher/dist/main.js'), env, 150_000);
}

async function inTemporaryDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tls-test-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A CA nobody trusts, self-signed with openssl: its certificate (PEM). */
export function rogueCa(): Promise<string> {
  return inTemporaryDir(async (dir) => {
    const certFile = join(dir, 'ca.crt');
    await issueCa({ certFile, keyFile: join(dir, 'ca.key'), commonName: 'Rogue CA', days: 1 });
    return readFile(certFile, 'utf8');
  });
}

/** A server certificate and key issued by the CA in `caDir` (ca.crt, ca.key) for `subjectAltName`. */
export function issueServerCertificate(
  caDir: string,
  subjectAltName: string,
): Promise<{ cert: string; key: string }> {
  return inTemporaryDir(async (dir) => {
    const leaf = { certFile: join(dir, 'leaf.crt'), keyFile: join(dir, 'leaf.key') };
    await issueCertificate({
      ...leaf,
      ca: { certFile: join(caDir, 'ca.crt'), keyFile: join(caDir, 'ca.key') },
      commonName: 'elsewhere',
      usage: 'serverAuth',
      subjectAltName,
      days: 1,
    });
    return {
      cert: await readFile(leaf.certFile, 'utf8'),
      key: await readFile(leaf.keyFile, 'utf8'),
    };
  });
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
