import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A token endpoint relay: its URL, the refreshes it passed on, and how to stop it. */
export interface TokenRelay {
  readonly url: string;
  readonly refreshes: number;
  close(): Promise<void>;
}

/**
 * An HTTP relay in front of the provider's token endpoint: passes each request through as it is and
 * hands every access token in an answer to `issued`, counting refresh-token grants.
 */
export async function startTokenRelay(
  target: string,
  issued: (accessToken: string) => void,
): Promise<TokenRelay> {
  let refreshes = 0;
  const relay = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (new URLSearchParams(body).get('grant_type') === 'refresh_token') refreshes += 1;
    const headers = new Headers();
    for (const name of ['content-type', 'authorization', 'accept']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    const answer = await fetch(target, { method: request.method ?? 'POST', headers, body });
    const text = await answer.text();
    if (answer.ok) {
      const token = (JSON.parse(text) as { access_token?: unknown }).access_token;
      if (typeof token === 'string') issued(token);
    }
    response.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/json',
    });
    response.end(text);
  };
  const server = createServer((request, response) => {
    relay(request, response).catch((error: unknown) => {
      response.writeHead(502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'server_error', error_description: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    get refreshes() {
      return refreshes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
