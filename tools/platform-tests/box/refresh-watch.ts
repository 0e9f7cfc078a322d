import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Stands between vault-proxy's replicas and the provider's token endpoint and watches refreshes:
 * how many there were, and whether two for the same refresh token (one connection: the provider
 * double does not rotate them) were ever in flight at once — what a cluster-wide single flight
 * must prevent. Every request is passed on unchanged.
 */
export class RefreshWatch {
  refreshes = 0;
  /** Refreshes that began while another of the same connection was still in flight. */
  overlaps = 0;
  private readonly inFlight = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly tokenUrl: string,
  ) {}

  static async start(upstreamTokenUrl: string): Promise<RefreshWatch> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const watch = new RefreshWatch(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    );
    server.on('request', (request, response) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const body = Buffer.concat(chunks);
        const form = new URLSearchParams(body.toString('utf8'));
        const refreshToken =
          form.get('grant_type') === 'refresh_token' ? form.get('refresh_token') : null;
        if (refreshToken !== null) {
          watch.begin(refreshToken);
          // Over when the replica has its answer or is gone (a killed replica's connection
          // closes; what it had asked may still be under way at the provider).
          response.once('close', () => watch.end(refreshToken));
        }
        try {
          const answer = await fetch(upstreamTokenUrl, {
            method: request.method ?? 'POST',
            headers: Object.fromEntries(
              Object.entries(request.headers)
                .filter(([name]) => !['host', 'content-length', 'connection'].includes(name))
                .map(([name, value]) => [name, String(value)]),
            ),
            body,
          });
          const text = await answer.text();
          response.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          });
          response.end(text);
        } catch {
          if (!response.headersSent) response.writeHead(502);
          response.end();
        }
      })();
    });
    return watch;
  }

  private begin(refreshToken: string): void {
    this.refreshes += 1;
    const now = this.inFlight.get(refreshToken) ?? 0;
    if (now > 0) this.overlaps += 1;
    this.inFlight.set(refreshToken, now + 1);
  }

  private end(refreshToken: string): void {
    const now = (this.inFlight.get(refreshToken) ?? 1) - 1;
    if (now === 0) this.inFlight.delete(refreshToken);
    else this.inFlight.set(refreshToken, now);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
