import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@heroagent/telemetry';

/** What `/readyz` answers from: whether the service is ready, and each of its checks. */
export type ReadinessProbe = () => Promise<{
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, 'up' | 'down'>>;
}>;

/** A running health listener. */
export interface HealthListener {
  /** `http://<host>:<port>`, the port as bound (0 in the options picks a free one). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves a service's probes over plain HTTP, for a kubelet or a container engine's health check:
 * `GET /healthz` answers 200 while the process serves requests at all; `GET /readyz` answers 200
 * when the service is ready and 503 otherwise, naming each check `up` or `down` and nothing more
 * (no versions, no error details: nothing on this port is authenticated). Anything else is 404,
 * any other method 405. It carries no data and accepts no input, so plain HTTP is enough; bind it
 * to loopback (the default) unless a probe comes from outside the pod.
 */
export async function startHealthListener(options: {
  host: string;
  port: number;
  readiness: ReadinessProbe;
  logger: Logger;
}): Promise<HealthListener> {
  const server = createServer((request, response) => {
    answer(request, response, options.readiness).catch((error: unknown) => {
      options.logger.warn({ err: error }, 'health listener: readiness failed');
      send(response, 503, { status: 'not_ready', checks: {} });
    });
  });
  // A probe is one short request: no keep-alive sessions to wait for when the service stops.
  server.keepAliveTimeout = 1_000;
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  options.logger.info({ url }, 'health listener: /healthz and /readyz');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  readiness: ReadinessProbe,
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/healthz' && path !== '/readyz') return send(response, 404, { error: 'NOT_FOUND' });
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(response, 405, { error: 'METHOD_NOT_ALLOWED' });
  }
  if (path === '/healthz') return send(response, 200, { status: 'alive' });
  const { ready, checks } = await readiness();
  send(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks });
}

function send(response: ServerResponse, status: number, body: object): void {
  if (response.headersSent) return;
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/json');
  response.setHeader('Cache-Control', 'no-store');
  response.end(JSON.stringify(body));
}
