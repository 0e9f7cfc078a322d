import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP load balancer in front of the gateway's replicas, as an ingress is: every request goes
 * to the next replica in turn, one that refuses the connection is skipped, and the client's
 * address is passed on in X-Forwarded-For (the gateways trust one hop). The replicas share one
 * public origin, this one, so a sign-in may start on one replica and come back on another.
 */
export class LoadBalancer {
  private next = 0;
  /** Requests each upstream answered, by port. */
  readonly served = new Map<number, number>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    private readonly upstreams: readonly number[],
  ) {}

  static async start(upstreams: readonly number[], port = 0): Promise<LoadBalancer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const balancer = new LoadBalancer(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      upstreams,
    );
    server.on('request', (request, response) => void balancer.forward(request, response));
    return balancer;
  }

  private async forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    // The test's browsers stand for people at addresses of their own and say which: that is the
    // address this balancer passes on, as an ingress would pass on its peer's.
    const forwardedFor =
      request.headers['x-forwarded-for']?.toString() ?? request.socket.remoteAddress ?? '127.0.0.1';
    for (let attempt = 0; attempt < this.upstreams.length * 3; attempt += 1) {
      const port = this.upstreams[this.next++ % this.upstreams.length]!;
      const answered = await new Promise<boolean>((resolve) => {
        const upstream = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: request.method,
            path: request.url,
            headers: { ...request.headers, 'x-forwarded-for': forwardedFor },
          },
          (reply) => {
            this.served.set(port, (this.served.get(port) ?? 0) + 1);
            response.writeHead(reply.statusCode ?? 502, reply.headers);
            reply.pipe(response);
            reply.once('end', () => resolve(true));
            reply.once('error', () => {
              response.destroy();
              resolve(true);
            });
          },
        );
        // Refused (the replica is down): try the next one. Cut mid-answer: the client sees it.
        upstream.once('error', () => {
          if (response.headersSent) {
            response.destroy();
            resolve(true);
          } else resolve(false);
        });
        upstream.end(body);
      });
      if (answered) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    response.writeHead(502, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ code: 'UNAVAILABLE', message: 'no gateway replica answered' }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
