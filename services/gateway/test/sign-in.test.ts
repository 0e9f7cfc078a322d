import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from './support/browser.js';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';

describe('sign-in with OAuth (provider double, real Postgres and NATS)', () => {
  let fixture: GatewayFixture;

  beforeAll(async () => {
    fixture = await startGatewayFixture();
  });
  afterAll(() => fixture?.close());

  it('lists the configured providers', async () => {
    const response = await fetch(`${fixture.origin}/v1/auth/providers`);
    expect(await response.json()).toEqual({
      providers: [
        { id: 'google', name: 'Google' },
        { id: 'oidc', name: 'Company SSO' },
      ],
    });
  });

  it('signs a new person in with Google: state, PKCE and nonce sent; a tenant of their own', async () => {
    const { browser, session } = await fixture.signIn({
      sub: 'google-ada',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
    });
    const sent = fixture.provider.lastAuthorizationParams()!;
    expect(sent.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.get('nonce')).toBeTruthy();
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('redirect_uri')).toBe(`${fixture.origin}/v1/auth/google/callback`);
    expect(session.user).toMatchObject({ email: 'ada@example.com', displayName: 'Ada Lovelace' });
    expect(session.tenant).toMatchObject({ role: 'owner', name: "Ada Lovelace's workspace" });
    expect(browser.cookie(fixture.origin, fixture.sessionCookie)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('signs in with a generic OpenID Connect provider', async () => {
    const { session } = await fixture.signIn(
      { sub: 'sso-grace', email: 'grace@example.com', name: 'Grace Hopper' },
      { provider: 'oidc' },
    );
    expect(session.user.email).toBe('grace@example.com');
    expect(session.tenant?.role).toBe('owner');
  });
});
