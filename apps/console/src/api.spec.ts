import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, query, useCsrfToken } from './api.js';

describe('the console’s client of the gateway', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('sends the CSRF token with every change, never with a read', async () => {
    const seen: { method: string; headers: Record<string, string> }[] = [];
    vi.stubGlobal(
      'fetch',
      (_path: string, init: { method: string; headers: Record<string, string> }) => {
        seen.push(init);
        return Promise.resolve(new Response('{"ok":true}', { status: 200 }));
      },
    );
    useCsrfToken('csrf-123');
    await api('GET', '/v1/session');
    await api('POST', '/v1/tenant/agents/pause');
    expect(seen[0]!.headers['x-csrf-token']).toBeUndefined();
    expect(seen[1]!.headers['x-csrf-token']).toBe('csrf-123');
  });

  it('turns a coded error into an ApiError with its code and issues, and anything else into INTERNAL', async () => {
    vi.stubGlobal('fetch', () =>
      Promise.resolve(
        new Response(
          JSON.stringify({
            code: 'INVALID_REQUEST',
            message: 'bad',
            issues: [{ path: 'body.text', message: 'no' }],
          }),
          { status: 400 },
        ),
      ),
    );
    const coded = await api('POST', '/v1/tenant/policy', {}).catch((error: unknown) => error);
    expect(coded).toBeInstanceOf(ApiError);
    expect(coded).toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
      issues: [{ path: 'body.text' }],
    });
    vi.stubGlobal('fetch', () =>
      Promise.resolve(new Response('<html>bad gateway</html>', { status: 502 })),
    );
    await expect(api('GET', '/v1/activity')).rejects.toMatchObject({
      status: 502,
      code: 'INTERNAL',
    });
  });

  it('builds query strings from the values that are set', () => {
    expect(query({ a: 'x y', b: undefined, c: '', d: 0, e: null })).toBe('?a=x+y&d=0');
    expect(query({})).toBe('');
  });
});
