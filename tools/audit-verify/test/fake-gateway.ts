import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignedCheckpoint } from '@heroagent/contracts';
import { runCli } from './run-cli.js';

/** What the fake gateway was asked: `from` and, for a later page, `sequenceFrom`. */
export interface ConsistencyQuery {
  readonly from: number;
  readonly sequenceFrom: number | undefined;
}

export const COOKIE = 'heroagent_session=witness-session-secret';

/**
 * A stand-in for the gateway's GET /v1/integrity/consistency, answering whatever the test says
 * (honest or not), recording every request; with a kept checkpoint and a session file on disk,
 * and `witness()` running `pnpm audit:verify --since --gateway` against it.
 */
export class FakeGateway {
  readonly requests: { url: string; cookie: string | undefined }[] = [];
  answer: (query: ConsistencyQuery) => { status: number; body: unknown } = () => ({
    status: 500,
    body: {},
  });

  private constructor(
    private readonly server: Server,
    readonly dir: string,
    readonly base: string,
    readonly keptFile: string,
    readonly sessionFile: string,
  ) {}

  static async start(kept: SignedCheckpoint): Promise<FakeGateway> {
    const dir = await mkdtemp(join(tmpdir(), 'audit-verify-gateway-'));
    const keptFile = join(dir, 'kept.json');
    await writeFile(keptFile, JSON.stringify(kept));
    const sessionFile = join(dir, 'session');
    await writeFile(sessionFile, `${COOKIE}\n`);
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      gateway.requests.push({ url: url.pathname + url.search, cookie: request.headers.cookie });
      const sequenceFrom = url.searchParams.get('sequenceFrom');
      const { status, body } = gateway.answer({
        from: Number(url.searchParams.get('from')),
        sequenceFrom: sequenceFrom === null ? undefined : Number(sequenceFrom),
      });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const gateway: FakeGateway = new FakeGateway(server, dir, base, keptFile, sessionFile);
    return gateway;
  }

  /** Answers 200 with what `body` gives for each request. */
  serve(body: (query: ConsistencyQuery) => unknown, status = 200): void {
    this.answer = (query) => ({ status, body: body(query) });
  }

  /** `pnpm audit:verify --since <kept> --trust <trust> --gateway <this> --session-file …`. */
  witness(trust: string, extra: string[] = [], keptFile = this.keptFile) {
    return runCli([
      '--since',
      keptFile,
      '--trust',
      trust,
      '--gateway',
      this.base,
      '--session-file',
      this.sessionFile,
      ...extra,
    ]);
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
    await rm(this.dir, { recursive: true, force: true });
  }
}
