import { readFile } from 'node:fs/promises';
import { request } from 'node:https';

/** The gateway's /readyz answer. */
export interface Readiness {
  readonly status: 'ready' | 'not_ready';
  readonly checks: Record<string, string>;
  readonly services: Record<'gateway' | 'agent' | 'vault-proxy' | 'audit', string>;
}

/** Polls the gateway's /readyz until it answers ready with every service ok. */
export async function waitUntilReady(
  gatewayUrl: string,
  caFile: string | undefined,
  crashed: Promise<string>,
  timeoutMs: number,
): Promise<Readiness> {
  const ca = caFile === undefined ? undefined : await readFile(caFile);
  let crash: string | undefined;
  void crashed.then((service) => {
    crash = service;
  });
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (crash !== undefined) throw new Error(`${crash} exited during start-up`);
    try {
      const response =
        ca === undefined
          ? await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
              async (answer) => ({ ok: answer.ok, body: (await answer.json()) as Readiness }),
            )
          : await getJsonOverTls<Readiness>(`${gatewayUrl}/readyz`, ca);
      const body = response.body;
      if (response.ok && Object.values(body.services).every((status) => status === 'ok'))
        return body;
      last = JSON.stringify(body.services);
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the platform was not ready within ${timeoutMs / 1000} s (last: ${last})`);
}

// fetch cannot be given a CA of its own: node:https can, and verifies the gateway against it.
function getJsonOverTls<T>(url: string, ca: Buffer): Promise<{ ok: boolean; body: T }> {
  return new Promise((resolve, reject) => {
    const call = request(url, { ca, minVersion: 'TLSv1.3', timeout: 5_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        try {
          const status = response.statusCode ?? 0;
          resolve({
            ok: status >= 200 && status < 300,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T,
          });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    call.on('timeout', () => call.destroy(new Error('no answer within 5 s')));
    call.on('error', reject);
    call.end();
  });
}
