import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Held {
  readonly method: string;
  readonly path: string;
  release(): void;
}

/**
 * An HTTP proxy in front of a double (the provider's endpoints, Vault) that passes requests on,
 * except those it was told to hold: those wait until the test releases them, so a test can stop
 * one replica in the middle of a provider call or a secrets write and act meanwhile.
 */
export class HoldingProxy {
  /** Where requests go; set once the double behind is started. */
  target = '';
  /** Every request that arrived, held or not, as `METHOD path`. */
  readonly seen: string[] = [];
  private readonly held: Held[] = [];
  private readonly rules: { matches: (method: string, path: string) => boolean }[] = [];
  private readonly arrivals: (() => void)[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<HoldingProxy> {
    const proxy: HoldingProxy = new HoldingProxy(
      createServer((incoming, response) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const body = Buffer.concat(chunks);
          const forward = () =>
            proxy.forward(incoming, body, (status, headers, answer) =>
              response.writeHead(status, headers).end(answer),
            );
          proxy.arrive(incoming.method ?? 'GET', incoming.url ?? '/', forward);
        });
      }),
    );
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Holds the next request whose method and path match, until {@link release}. */
  holdNext(method: string, path: RegExp): void {
    this.rules.push({ matches: (m, p) => m === method && path.test(p) });
  }

  /** Resolves once `count` requests are held. */
  async holding(count: number): Promise<void> {
    while (this.held.length < count) {
      await new Promise<void>((resolve) => this.arrivals.push(resolve));
    }
  }

  /** Lets the oldest held request through (to the double, which answers it). */
  release(): void {
    const next = this.held.shift();
    if (next === undefined) throw new Error('nothing is held');
    next.release();
  }

  async close(): Promise<void> {
    while (this.held.length > 0) this.release();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private arrive(method: string, path: string, forward: () => void): void {
    this.seen.push(`${method} ${path}`);
    const rule = this.rules.findIndex((candidate) => candidate.matches(method, path));
    if (rule < 0) return forward();
    this.rules.splice(rule, 1);
    this.held.push({ method, path, release: forward });
    for (const wake of this.arrivals.splice(0)) wake();
  }

  private forward(
    incoming: IncomingMessage,
    body: Buffer,
    answer: (status: number, headers: Record<string, string>, body: Buffer) => void,
  ): void {
    const target = new URL(incoming.url ?? '/', this.target);
    const outgoing = httpRequest(
      target,
      { method: incoming.method, headers: { ...incoming.headers, host: target.host } },
      (reply) => {
        const chunks: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => chunks.push(chunk));
        reply.on('end', () =>
          answer(
            reply.statusCode ?? 502,
            { 'content-type': reply.headers['content-type'] ?? 'application/json' },
            Buffer.concat(chunks),
          ),
        );
      },
    );
    outgoing.on('error', () => answer(502, { 'content-type': 'text/plain' }, Buffer.alloc(0)));
    outgoing.end(body);
  }
}
