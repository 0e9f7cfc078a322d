import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '@heroagent/doubles';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';

describe('bad input at the HTTP edge', () => {
  let fixture: GatewayFixture;
  let browser: TestBrowser;
  let csrf: string;

  const send = (
    method: string,
    path: string,
    body: string | undefined,
    type = 'application/json',
  ) =>
    browser.fetch(`${fixture.origin}${path}`, {
      method,
      headers: { 'x-csrf-token': csrf, ...(body === undefined ? {} : { 'content-type': type }) },
      ...(body === undefined ? {} : { body }),
    });

  async function expectCoded(response: Response, status: number, code: string) {
    const body = (await response.json()) as { code: string; message: string; issues?: unknown };
    expect({ status: response.status, code: body.code }).toEqual({ status, code });
    expect(JSON.stringify(body)).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/);
    return body;
  }

  beforeAll(async () => {
    fixture = await startGatewayFixture({ HTTP_BODY_LIMIT_BYTES: '2048' });
    const signedIn = await fixture.signIn({
      sub: 'input-1',
      email: 'input@example.com',
      name: 'In',
    });
    browser = signedIn.browser;
    csrf = signedIn.session.csrfToken;
  });
  afterAll(() => fixture?.close());

  it('refuses malformed JSON', async () => {
    const body = await expectCoded(
      await send('POST', '/v1/tenants', '{"name": '),
      400,
      'INVALID_REQUEST',
    );
    expect(body.message).toBe('the request body is not valid JSON');
  });

  it('refuses a body over the limit', async () => {
    const body = await expectCoded(
      await send('POST', '/v1/tenants', JSON.stringify({ name: 'x'.repeat(4096) })),
      413,
      'INVALID_REQUEST',
    );
    expect(body.message).toBe('the request body is too large');
  });

  it('names each invalid field, and refuses unknown ones', async () => {
    const body = await expectCoded(
      await send('POST', '/v1/tenants', JSON.stringify({ name: '', admin: true })),
      400,
      'INVALID_REQUEST',
    );
    expect(body.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'body.name' }),
        expect.objectContaining({ path: 'body' }),
      ]),
    );
  });

  it('refuses a body that is not JSON where one is required', async () => {
    await expectCoded(
      await send('POST', '/v1/tenants', 'name=x', 'application/x-www-form-urlencoded'),
      400,
      'INVALID_REQUEST',
    );
    await expectCoded(await send('POST', '/v1/tenants', undefined), 400, 'INVALID_REQUEST');
  });

  it('refuses a body on a route that takes none', async () => {
    const body = await expectCoded(
      await send('POST', '/v1/session/sign-out', '{"all":true}'),
      400,
      'INVALID_REQUEST',
    );
    expect(body.issues).toEqual([{ path: 'body', message: 'this route takes no body' }]);
  });

  it('refuses malformed path parameters and unknown query parameters', async () => {
    const bad = await expectCoded(
      await send('DELETE', '/v1/me/sessions/not-a-uuid', undefined),
      400,
      'INVALID_REQUEST',
    );
    expect(bad.issues).toEqual([expect.objectContaining({ path: 'params.id' })]);
    const extra = await expectCoded(
      await browser.fetch(`${fixture.origin}/v1/connections?userId=all&admin=1`),
      400,
      'INVALID_REQUEST',
    );
    expect(extra.issues).toEqual([expect.objectContaining({ path: 'query' })]);
  });

  it('refuses a path that is not validly percent-encoded', async () => {
    const body = await expectCoded(
      await send('DELETE', '/v1/me/sessions/%FF', undefined),
      400,
      'INVALID_REQUEST',
    );
    expect(body.message).toBe('the request path is not validly encoded');
  });

  it('answers an unknown route with a coded 404', async () => {
    await expectCoded(await browser.fetch(`${fixture.origin}/v1/nothing-here`), 404, 'NOT_FOUND');
  });

  it('answers no CORS preflight: browsers may call only from this origin', async () => {
    const response = await fetch(`${fixture.origin}/v1/session`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-csrf-token',
      },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('limits the rate per client address, with a coded 429 and Retry-After', async () => {
    const client = new TestBrowser();
    const statuses: number[] = [];
    for (let i = 0; i < 31; i += 1) {
      const response = await client.fetch(`${fixture.origin}/v1/auth/google/start`);
      statuses.push(response.status);
      if (response.status === 429) {
        expect(await response.json()).toMatchObject({ code: 'RATE_LIMITED' });
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      } else {
        await response.body?.cancel();
      }
    }
    expect(statuses.slice(0, 30).every((status) => status === 303)).toBe(true);
    expect(statuses[30]).toBe(429);
    // Another address is not affected.
    expect((await new TestBrowser().fetch(`${fixture.origin}/v1/auth/google/start`)).status).toBe(
      303,
    );
  });
});
