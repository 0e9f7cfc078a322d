import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOGLE_API_SCOPES, OidcProviderDouble } from '../src/index.js';

const REDIRECT_URI = 'http://127.0.0.1:1/callback';
const GMAIL_READONLY = 'https://www.googleapis.com/auth/gmail.readonly';
const GMAIL_SEND = 'https://www.googleapis.com/auth/gmail.send';
const SIGN_IN = 'openid email profile';

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  expires_in?: number;
  token_type?: string;
  error?: string;
}

let provider: OidcProviderDouble;

beforeAll(async () => {
  provider = await OidcProviderDouble.start({ redirectUris: [REDIRECT_URI] });
});

afterAll(async () => {
  await provider.close();
});

/**
 * A browser following redirects by hand until the redirect URI, keeping the provider's cookies in
 * `jar` between hops (and across calls when the same jar is passed); `undefined` keeps none.
 */
async function followToRedirectUri(
  start: URL,
  jar: Map<string, string> | undefined = new Map(),
): Promise<URL> {
  let next = start.toString();
  for (let hop = 0; hop < 10; hop += 1) {
    if (next.startsWith(REDIRECT_URI)) return new URL(next);
    const sameOrigin = new URL(next).origin === provider.issuer;
    const cookie = [...(jar ?? [])].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(next, {
      redirect: 'manual',
      headers: sameOrigin && cookie !== '' ? { cookie } : {},
    });
    for (const line of jar === undefined ? [] : response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (value === '' || line.includes('expires=Thu, 01 Jan 1970')) jar.delete(name);
      else jar.set(name, value);
    }
    const location = response.headers.get('location');
    if (location === null)
      throw new Error(`${response.status} at ${next}: ${await response.text()}`);
    next = new URL(location, next).toString();
  }
  throw new Error('too many redirects');
}

function authorizationRequest(overrides: Record<string, string | undefined> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const nonce = randomBytes(8).toString('hex');
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: provider.clientId,
    redirect_uri: REDIRECT_URI,
    scope: `${SIGN_IN} ${GMAIL_READONLY}`,
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    access_type: 'offline',
    prompt: 'consent',
    ...overrides,
  };
  const url = new URL(provider.authorizeUrl);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return { url, verifier, state, nonce };
}

async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: TokenResponse }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as TokenResponse };
}

function exchangeCode(code: string, verifier: string) {
  return postForm(provider.tokenUrl, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
    client_id: provider.clientId,
    client_secret: provider.clientSecret,
  });
}

function refresh(refreshToken: string) {
  return postForm(provider.tokenUrl, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: provider.clientId,
    client_secret: provider.clientSecret,
  });
}

/** Signs in through redirects and exchanges the code; returns the token response. */
async function signIn(
  overrides: Record<string, string | undefined> = {},
  jar = new Map<string, string>(),
) {
  const request = authorizationRequest(overrides);
  const callback = await followToRedirectUri(request.url, jar);
  expect(callback.searchParams.get('state')).toBe(request.state);
  const tokens = await exchangeCode(callback.searchParams.get('code')!, request.verifier);
  expect(tokens.status).toBe(200);
  return { ...request, tokens: tokens.body };
}

function jwtPart(jwt: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[index]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe('OidcProviderDouble', () => {
  it('signs a person in through redirects alone and issues Google-shaped tokens', async () => {
    const before = provider.tokenRequests;
    const request = authorizationRequest({ login_hint: 'person@example.com' });

    const callback = await followToRedirectUri(request.url);

    expect(callback.searchParams.get('state')).toBe(request.state);
    expect(callback.searchParams.get('iss')).toBe(provider.issuer);
    const sent = provider.lastAuthorizationParams()!;
    expect(sent.get('nonce')).toBe(request.nonce);
    expect(sent.get('code_challenge')).toBe(request.url.searchParams.get('code_challenge'));
    expect(sent.get('access_type')).toBe('offline');
    expect(sent.get('login_hint')).toBe('person@example.com');

    const { status, body } = await exchangeCode(
      callback.searchParams.get('code')!,
      request.verifier,
    );
    expect(status).toBe(200);
    expect(body.access_token).toEqual(expect.any(String));
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBeGreaterThan(3000);
    expect(body.scope!.split(' ').sort()).toEqual([...SIGN_IN.split(' '), GMAIL_READONLY].sort());
    expect(provider.tokenRequests).toBe(before + 1);

    const idToken = body.id_token!;
    expect(jwtPart(idToken, 0).alg).toBe('RS256');
    expect(jwtPart(idToken, 1)).toMatchObject({
      iss: provider.issuer,
      aud: provider.clientId,
      nonce: request.nonce,
      sub: '100000000000000000001',
      email: 'person@example.com',
      email_verified: true,
      name: 'Test Person',
    });
    const jwks = (await (await fetch(provider.jwksUrl)).json()) as { keys: JsonWebKey[] };
    const [header = '', payload = '', signature = ''] = idToken.split('.');
    const signedBy = createPublicKey({ key: jwks.keys[0]!, format: 'jwk' });
    expect(
      verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        signedBy,
        Buffer.from(signature, 'base64url'),
      ),
    ).toBe(true);
  });

  it('publishes a discovery document naming its endpoints', async () => {
    const discovery = (await (await fetch(provider.discoveryUrl)).json()) as Record<
      string,
      unknown
    >;

    expect(discovery).toMatchObject({
      issuer: provider.issuer,
      authorization_endpoint: provider.authorizeUrl,
      token_endpoint: provider.tokenUrl,
      userinfo_endpoint: provider.userInfoUrl,
      revocation_endpoint: provider.revocationUrl,
      jwks_uri: provider.jwksUrl,
    });
    expect(discovery.scopes_supported).toEqual(expect.arrayContaining(GOOGLE_API_SCOPES));
  });

  it('completes without any cookie jar on the provider origin', async () => {
    const request = authorizationRequest();

    const callback = await followToRedirectUri(request.url, undefined);

    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
    expect(callback.searchParams.get('state')).toBe(request.state);
  });

  it('accepts client_secret_basic as well as client_secret_post', async () => {
    const request = authorizationRequest();
    const callback = await followToRedirectUri(request.url);
    const basic = Buffer.from(
      `${encodeURIComponent(provider.clientId)}:${encodeURIComponent(provider.clientSecret)}`,
    ).toString('base64');

    const { status, body } = await postForm(
      provider.tokenUrl,
      {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: REDIRECT_URI,
        code_verifier: request.verifier,
      },
      { authorization: `Basic ${basic}` },
    );

    expect(status).toBe(200);
    expect(body.access_token).toEqual(expect.any(String));
  });

  it('refuses a wrong client secret with invalid_client', async () => {
    const request = authorizationRequest();
    const callback = await followToRedirectUri(request.url);

    const { status, body } = await postForm(provider.tokenUrl, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: REDIRECT_URI,
      code_verifier: request.verifier,
      client_id: provider.clientId,
      client_secret: 'not-the-secret',
    });

    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('enforces PKCE: a wrong code_verifier earns invalid_grant', async () => {
    const request = authorizationRequest();
    const callback = await followToRedirectUri(request.url);

    const { status, body } = await exchangeCode(
      callback.searchParams.get('code')!,
      randomBytes(32).toString('base64url'),
    );

    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('refuses a replayed code, and revokes what the code earned', async () => {
    const request = authorizationRequest();
    const callback = await followToRedirectUri(request.url);
    const code = callback.searchParams.get('code')!;
    const first = await exchangeCode(code, request.verifier);
    expect(first.status).toBe(200);

    const replay = await exchangeCode(code, request.verifier);

    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await refresh(first.body.refresh_token!)).body.error).toBe('invalid_grant');
  });

  it('refreshes, and refuses a refresh token once it was revoked', async () => {
    const { tokens } = await signIn();
    const refreshToken = tokens.refresh_token!;

    const refreshed = await refresh(refreshToken);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(tokens.access_token);
    expect(refreshed.body.scope).toContain(GMAIL_READONLY);

    const revocation = await postForm(provider.revocationUrl, {
      token: refreshToken,
      client_id: provider.clientId,
      client_secret: provider.clientSecret,
    });
    expect(revocation.status).toBe(200);
    expect(provider.revokedTokens).toContain(refreshToken);

    const afterRevocation = await refresh(refreshToken);
    expect(afterRevocation.status).toBe(400);
    expect(afterRevocation.body.error).toBe('invalid_grant');
  });

  it('denyNext sends the browser back with the error and the state, once', async () => {
    provider.denyNext();
    const denied = authorizationRequest();

    const callback = await followToRedirectUri(denied.url);

    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(denied.state);
    expect(callback.searchParams.has('code')).toBe(false);

    provider.denyNext('admin_policy_enforced');
    const custom = await followToRedirectUri(authorizationRequest().url);
    expect(custom.searchParams.get('error')).toBe('admin_policy_enforced');

    const { tokens } = await signIn();
    expect(tokens.access_token).toEqual(expect.any(String));
  });

  it('grantOnlyNext grants only the scopes a person left ticked', async () => {
    provider.grantOnlyNext([GMAIL_READONLY]);

    const { tokens } = await signIn({ scope: `${SIGN_IN} ${GMAIL_READONLY} ${GMAIL_SEND}` });

    const granted = tokens.scope!.split(' ');
    expect(granted).toEqual(expect.arrayContaining(['openid', 'email', 'profile', GMAIL_READONLY]));
    expect(granted).not.toContain(GMAIL_SEND);

    const next = await signIn({ scope: `${SIGN_IN} ${GMAIL_SEND}` });
    expect(next.tokens.scope).toContain(GMAIL_SEND);
  });

  it('issues no refresh token without access_type=offline', async () => {
    const online = await signIn({ access_type: undefined });
    expect(online.tokens.refresh_token).toBeUndefined();
    expect(online.tokens.access_token).toEqual(expect.any(String));

    const explicit = await signIn({ access_type: 'online' });
    expect(explicit.tokens.refresh_token).toBeUndefined();
  });

  it('refuses an access_type Google would not accept', async () => {
    const request = authorizationRequest({ access_type: 'forever' });

    const callback = await followToRedirectUri(request.url);

    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('state')).toBe(request.state);
  });

  it('signs in whoever nextUser names, even in a browser that kept its cookies', async () => {
    const browser = new Map<string, string>();
    const first = await signIn({}, browser);
    expect([...browser.keys()]).toContain('_session');
    provider.nextUser({
      sub: '200000000000000000002',
      email: 'other@example.com',
      emailVerified: false,
    });

    const second = await signIn({}, browser);

    expect(jwtPart(first.tokens.id_token!, 1).sub).toBe('100000000000000000001');
    expect(jwtPart(second.tokens.id_token!, 1)).toMatchObject({
      sub: '200000000000000000002',
      email: 'other@example.com',
      email_verified: false,
    });
    const userinfo = await fetch(provider.userInfoUrl, {
      headers: { authorization: `Bearer ${second.tokens.access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({
      sub: '200000000000000000002',
      email: 'other@example.com',
    });
  });

  it('include_granted_scopes=true adds the scopes granted before, as Google does', async () => {
    provider.nextUser({ sub: '300000000000000000003', email: 'third@example.com' });
    await signIn({ scope: SIGN_IN, access_type: undefined });

    const { tokens } = await signIn({ scope: GMAIL_SEND, include_granted_scopes: 'true' });

    expect(tokens.scope!.split(' ').sort()).toEqual([...SIGN_IN.split(' '), GMAIL_SEND].sort());
    expect(provider.lastAuthorizationParams()!.get('scope')).toBe(GMAIL_SEND);
    expect(jwtPart(tokens.id_token!, 1).email).toBe('third@example.com');
  });
});
