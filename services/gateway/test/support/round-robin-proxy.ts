import { createServer, request as forward, type Server } from 'node:http';

/**
 * A load balancer double: listens at the gateway's public origin and hands each request to the
 * next replica in turn, headers (cookies, X-Forwarded-For) and body as they came, so consecutive
 * requests of one browser — a sign-in's start and its callback, two calls under one session —
 * land on different replicas. Counts what each replica was given.
 */
export class RoundRobinProxy {
  /** How many requests each backend was handed, in the order of `backends`. */
  readonly served: number[];
  /** Each request's path and the index of the replica it was handed to, in order. */
  readonly handed: { path: string; replica: number }[] = [];
  private next = 0;
  private readonly server: Server;

  private constructor(private readonly backends: readonly URL[]) {
    this.served = backends.map(() => 0);
    this.server = createServer((incoming, outgoing) => {
      const target = this.backends[this.pick(incoming.url ?? '')]!;
      const upstream = forward(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      upstream.on('error', () => outgoing.writeHead(502).end());
      incoming.pipe(upstream);
    });
  }

  static async start(port: number, backends: readonly string[]): Promise<RoundRobinProxy> {
    const proxy = new RoundRobinProxy(backends.map((backend) => new URL(backend)));
    await new Promise<void>((resolve) => proxy.server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  private pick(path: string): number {
    const index = this.next % this.backends.length;
    this.next += 1;
    this.handed.push({ path, replica: index });
    this.served[index] = (this.served[index] ?? 0) + 1;
    return index;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
