/** The gateway's /readyz answer. */
export interface Readiness {
  readonly status: 'ready' | 'not_ready';
  readonly checks: Record<string, string>;
  readonly services: Record<'gateway' | 'agent' | 'vault-proxy' | 'audit', string>;
}

/** Polls the gateway's /readyz until it answers ready with every service ok. */
export async function waitUntilReady(
  gatewayUrl: string,
  crashed: Promise<string>,
  timeoutMs: number,
): Promise<Readiness> {
  let crash: string | undefined;
  void crashed.then((service) => {
    crash = service;
  });
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (crash !== undefined) throw new Error(`${crash} exited during start-up`);
    try {
      const response = await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
      const body = (await response.json()) as Readiness;
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
