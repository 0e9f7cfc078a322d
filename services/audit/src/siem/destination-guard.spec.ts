import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { issueCa } from '@heroagent/service/certificates';
import { postCheckpoint } from './checkpoint-webhook.js';
import { DestinationGuard, type CheckedEndpoint, type Resolver } from './destination-guard.js';
import { exportLogRecords } from './otlp-export.js';
import { backoffMs } from './siem.streamer.js';

/** A resolver double: answers `answers[n]` to its n-th question (the last one from then on). */
function rebinding(...answers: string[][]): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolver = (host: string) => {
    asked.push(host);
    const answer = answers[Math.min(asked.length, answers.length) - 1]!;
    return Promise.resolve(
      answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
  return Object.assign(resolver, { asked });
}

/** A loopback server that records every connection and request, and answers `status`. */
interface Receiver {
  readonly port: number;
  readonly connections: string[];
  readonly requests: string[];
  close(): Promise<void>;
}

const servers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function receiver(
  server: HttpServer,
  status: number,
  headers: Record<string, string> = {},
  at: { host: string; port: number } = { host: '127.0.0.1', port: 0 },
): Promise<Receiver> {
  const connections: string[] = [];
  const requests: string[] = [];
  server.on('connection', () => connections.push('tcp'));
  server.on('request', (request, response) => {
    requests.push(`${request.method} ${request.headers.host}${request.url}`);
    request.resume();
    request.on('end', () => response.writeHead(status, headers).end());
  });
  await new Promise<void>((resolve) => server.listen(at.port, at.host, resolve));
  const running = {
    port: (server.address() as AddressInfo).port,
    connections,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(running);
  return running;
}

/** A self-signed certificate nobody trusts, and its key. */
async function untrustedCertificate(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'guard-spec-'));
  try {
    const files = { certFile: join(dir, 'c.crt'), keyFile: join(dir, 'c.key') };
    await issueCa({ ...files, commonName: 'collector.test', days: 1 });
    return {
      cert: await readFile(files.certFile, 'utf8'),
      key: await readFile(files.keyFile, 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An OTLP/JSON export (of no records: the request is what is looked at). */
const otlpExport = (guard: DestinationGuard, checked: CheckedEndpoint, timeoutMs: number) =>
  exportLogRecords(guard, checked, { encoding: 'json', headers: {}, timeoutMs, records: [] });

const checkpointPost = { body: '{}', signature: 't=1, kid=k, ed25519=x' };

describe('SIEM destination guard', () => {
  it('refuses loopback and metadata endpoints unless the operator allows private networks', async () => {
    for (const endpoint of [
      'http://127.0.0.1:4318/v1/logs',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/v1/logs',
      'http://[::ffff:7f00:1]/v1/logs',
      'http://[::ffff:a9fe:a9fe]/latest/meta-data',
      'http://[64:ff9b::a9fe:a9fe]/latest/meta-data',
      'http://[2002:a9fe:a9fe::1]/latest/meta-data',
      'http://2130706433/v1/logs',
      'http://0x7f.1/v1/logs',
      'http://localhost:4318/v1/logs',
    ]) {
      await expect(new DestinationGuard(false).check(endpoint)).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(new DestinationGuard(true).check(endpoint)).resolves.toMatchObject({});
    }
  });

  it('checks every address a name has, not one', async () => {
    const guard = new DestinationGuard(
      false,
      rebinding(['8.8.8.8', '2001:4860:4860::8888', '::ffff:7f00:1']),
    );
    await expect(guard.check('https://collector.test/v1/logs')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      new DestinationGuard(false, rebinding([])).check('https://collector.test/v1/logs'),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(
      new DestinationGuard(false, rebinding(['8.8.8.8'])).check('https://collector.test/v1/logs'),
    ).resolves.toMatchObject({ host: 'collector.test', addresses: [{ address: '8.8.8.8' }] });
  });

  it('refuses other schemes and credentials in the URL', async () => {
    const guard = new DestinationGuard(true);
    await expect(guard.check('ftp://collector.example/v1/logs')).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    await expect(
      guard.check('https://user:secret@collector.example/v1/logs'),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(guard.check('not a url')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  describe('a name that answers one address to the check and another to the send (DNS rebinding)', () => {
    // Both answers are loopback, so nothing leaves the machine: the check is told 127.0.0.2 (allowed
    // here, as private networks are), a second lookup would say 127.0.0.1. A server listens on each,
    // on the same port: only the checked one may ever be reached.
    const checkedThenOther = () => rebinding(['127.0.0.2'], ['127.0.0.1']);
    const pair = async (make: () => HttpServer, status: number) => {
      const other = await receiver(make(), status);
      const checked = await receiver(make(), status, {}, { host: '127.0.0.2', port: other.port });
      return { other, checked, port: other.port };
    };

    it('a webhook POST goes to the checked address, never to what a second lookup says', async () => {
      const tls = await untrustedCertificate();
      const servers = await pair(() => createHttpsServer(tls), 204);
      const resolve = checkedThenOther();
      const guard = new DestinationGuard(true, resolve);
      const checked = await guard.check(`https://collector.test:${servers.port}/hook`);
      await postCheckpoint(guard, checked, {}, checkpointPost, 5_000);
      expect(resolve.asked).toEqual(['collector.test']);
      expect(servers.checked.connections).toEqual(['tcp']);
      expect(servers.other.connections).toEqual([]);
    });

    it('an OTLP export goes to the checked address, never to what a second lookup says', async () => {
      const servers = await pair(() => createHttpServer(), 200);
      const resolve = checkedThenOther();
      const guard = new DestinationGuard(true, resolve);
      const checked = await guard.check(`http://collector.test:${servers.port}/v1/logs`);
      const outcome = await otlpExport(guard, checked, 5_000);
      expect(outcome.delivered).toBe(true);
      expect(resolve.asked).toEqual(['collector.test']);
      expect(servers.checked.requests).toHaveLength(1);
      expect(servers.other.connections).toEqual([]);
    });
  });

  it('connects to the checked address and still checks TLS against the host name', async () => {
    let servername: string | undefined;
    const tls = await untrustedCertificate();
    const server = createHttpsServer({
      ...tls,
      SNICallback: (name, done) => {
        servername = name;
        done(null, undefined);
      },
    });
    const pinned = await receiver(server, 204);
    // Allowed to loopback here, so the send can reach the server the first answer names.
    const resolve = rebinding(['127.0.0.1'], ['10.255.255.1']);
    const guard = new DestinationGuard(true, resolve);
    const checked = await guard.check(`https://collector.test:${pinned.port}/hook`);
    const outcome = await postCheckpoint(guard, checked, {}, checkpointPost, 5_000);
    expect(resolve.asked).toEqual(['collector.test']);
    expect(pinned.connections).toEqual(['tcp']);
    expect(servername).toBe('collector.test');
    // The certificate is not trusted: TLS verification stayed on, so nothing was posted.
    expect(outcome).toMatchObject({ delivered: false });
    expect(outcome.error).toMatch(/certificate/);
    expect(pinned.requests).toEqual([]);
  });

  it('does not follow a redirect', async () => {
    const elsewhere = await receiver(createHttpServer(), 204);
    const redirecting = await receiver(createHttpServer(), 307, {
      location: `http://127.0.0.1:${elsewhere.port}/hook`,
    });
    const guard = new DestinationGuard(true);
    const webhook = await guard.check(`http://127.0.0.1:${redirecting.port}/hook`);
    expect(await postCheckpoint(guard, webhook, {}, checkpointPost, 5_000)).toEqual({
      delivered: false,
      error: 'the webhook answered 307',
    });
    const otlp = await otlpExport(guard, webhook, 5_000);
    expect(otlp.delivered).toBe(false);
    expect(redirecting.requests).toHaveLength(2);
    expect(elsewhere.requests).toEqual([]);
  });

  it('backs off exponentially with jitter, capped at five minutes', () => {
    expect(backoffMs(1, 0.5)).toBe(1000);
    expect(backoffMs(4, 0.5)).toBe(8000);
    expect(backoffMs(30, 0.5)).toBe(300_000);
    expect(backoffMs(3, 0)).toBe(3200);
    expect(backoffMs(3, 1)).toBe(4800);
  });
});
