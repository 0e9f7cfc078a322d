import { subscribe, unsubscribe } from 'node:diagnostics_channel';

const CHANNEL = 'http.client.request.error';

/** Errors of the HTTP requests this process made, by code, from when it was started. */
export interface HttpClientErrors {
  /** `none`, or each code with its count: `ECONNRESET ×2`. */
  describe(): string;
  stop(): void;
}

/**
 * Counts failed HTTP requests of everything in this process (the gateway's calls to the Gmail
 * double, vault-proxy's to Vault and the provider), so that a call that "could not reach the
 * provider" says why: a connector error carries no cause.
 */
export function countHttpClientErrors(): HttpClientErrors {
  const counts = new Map<string, number>();
  const onError = (message: unknown) => {
    const error = (message as { error?: { code?: unknown; message?: unknown } }).error;
    const code = typeof error?.code === 'string' ? error.code : String(error?.message);
    counts.set(code, (counts.get(code) ?? 0) + 1);
  };
  subscribe(CHANNEL, onError);
  return {
    describe: () =>
      counts.size === 0
        ? 'none'
        : [...counts].map(([code, count]) => `${code} ×${count}`).join(', '),
    stop: () => unsubscribe(CHANNEL, onError),
  };
}
