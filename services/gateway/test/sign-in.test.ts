import type { Request } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractError } from '@heroagent/contracts';
import { TestBrowser } from '@heroagent/doubles';
import { hashSecret } from '../src/sessions/secrets.js';
import { runStrategy } from '../src/sign-in/run-strategy.js';
import {
  SIGN_IN_FAILURES_PER_INVITATION,
  SIGN_IN_FAILURES_PER_WINDOW,
  SignInFailures,
} from '../src/sign-in/sign-in-failures.js';
import { SignInProviders } from '../src/sign-in/sign-in.controller.js';
import { leavesTheApi, startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { person } from './support/people.js';

const atCallback = (location: URL) => location.pathname.endsWith('/callback');

describe('sign-in with OAuth (provider double, real Postgres and NATS)', () => {
  let fixture: GatewayFixture;

  /** Starts a flow in `browser` and stops at the provider's redirect back: the callback URL. */
  async function callbackUrl(browser: TestBrowser, provider = 'google', returnTo = '/home') {
    const response = await browser.follow(
      `${fixture.origin}/v1/auth/${provider}/start?returnTo=${encodeURIComponent(returnTo)}`,
      atCallback,
    );
    expect(response.status).toBe(303);
    return new URL(response.headers.get('location')!);
  }

  async function expectError(response: Response, status: number, code: string) {
    const body = (await response.json()) as { code: string; message: string };
    expect({ status: response.status, code: body.code }).toEqual({ status, code });
    return body;
  }

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
    expect(sent.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.get('redirect_uri')).toBe(`${fixture.origin}/v1/auth/google/callback`);
    expect(sent.get('scope')).toBe('openid email profile');
    // The code went to vault-proxy with the flow's verifier, redirect URI and nonce, to sign in.
    const exchange = fixture.vault.received.filter((r) => r.subject === 'vault.oauth.exchange');
    expect(exchange.at(-1)!.grant).toMatchObject({
      provider: 'google',
      redirectUri: `${fixture.origin}/v1/auth/google/callback`,
      nonce: sent.get('nonce'),
      intent: { purpose: 'sign_in' },
    });
    expect(session.user).toMatchObject({ email: 'ada@example.com', displayName: 'Ada Lovelace' });
    expect(session.tenant).toMatchObject({ role: 'owner', name: "Ada Lovelace's workspace" });
    expect(browser.cookie(fixture.origin, fixture.sessionCookie)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The flow's browser binding is spent and cleared.
    expect(browser.cookie(fixture.origin, '__Host-heroagent_flow')).toBeUndefined();
  });

  it('signs the same person in again as the same person, in the same tenant', async () => {
    const ada = { sub: 'google-ada', email: 'ada@example.com', name: 'Ada Lovelace' };
    const first = await fixture.signIn(ada);
    const second = await fixture.signIn(ada);
    expect(second.session.user.id).toBe(first.session.user.id);
    expect(second.session.tenant?.id).toBe(first.session.tenant?.id);
  });

  it('signs in with a generic OpenID Connect provider (discovery, signed ID token checked)', async () => {
    const { session } = await fixture.signIn(
      { sub: 'sso-grace', email: 'grace@example.com', name: 'Grace Hopper' },
      { provider: 'oidc' },
    );
    expect(session.user.email).toBe('grace@example.com');
    expect(session.tenant?.role).toBe('owner');
    const sent = fixture.provider.lastAuthorizationParams()!;
    expect(sent.get('nonce')).toBeTruthy();
    expect(sent.get('code_challenge_method')).toBe('S256');
  });

  it('sends the browser back to the path it asked for', async () => {
    const browser = new TestBrowser();
    fixture.provider.nextUser(person());
    const last = await browser.follow(
      `${fixture.origin}/v1/auth/google/start?returnTo=${encodeURIComponent('/settings/connections?tab=google')}`,
      leavesTheApi(fixture.origin),
    );
    expect(last.headers.get('location')).toBe('/settings/connections?tab=google');
  });

  it.each([
    'https://evil.example/phish',
    '//evil.example/phish',
    '/\\evil.example',
    '/%0d%0aSet-Cookie:x=1',
    'javascript:alert(1)',
    'evil.example',
    '/ok\r\nLocation: https://evil.example',
  ])('refuses to start with a return address off this site: %s', async (returnTo) => {
    const response = await fetch(
      `${fixture.origin}/v1/auth/google/start?returnTo=${encodeURIComponent(returnTo)}`,
      { redirect: 'manual' },
    );
    if (returnTo === '/%0d%0aSet-Cookie:x=1') {
      // Percent-encoded stays percent-encoded: a harmless path on this site.
      expect(response.status).toBe(303);
      return;
    }
    const body = await expectError(response, 400, 'INVALID_REQUEST');
    expect(body.message).toBe('the request is not valid');
  });

  it('refuses a callback without a state, or without a code', async () => {
    const browser = new TestBrowser();
    const url = await callbackUrl(browser);
    const noState = new URL(url);
    noState.searchParams.delete('state');
    await expectError(await browser.fetch(noState.href), 400, 'OAUTH_STATE_INVALID');
    const noCode = new URL(url);
    noCode.searchParams.delete('code');
    await expectError(await browser.fetch(noCode.href), 400, 'OAUTH_STATE_INVALID');
    await expectError(
      await browser.fetch(`${fixture.origin}/v1/auth/google/callback`),
      400,
      'OAUTH_STATE_INVALID',
    );
  });

  it('refuses a wrong or malformed state', async () => {
    const browser = new TestBrowser();
    const url = await callbackUrl(browser);
    for (const state of ['A'.repeat(43), 'not-a-state', url.searchParams.get('state')! + 'x']) {
      const wrong = new URL(url);
      wrong.searchParams.set('state', state);
      const body = await expectError(await browser.fetch(wrong.href), 400, 'OAUTH_STATE_INVALID');
      expect(body.message).toMatch(/state/);
    }
    // The genuine one still works after those attempts.
    const response = await browser.fetch(url.href);
    expect(response.status).toBe(303);
  });

  it('refuses a replayed state (a callback used twice)', async () => {
    const browser = new TestBrowser();
    fixture.provider.nextUser(person());
    const url = await callbackUrl(browser);
    expect((await browser.fetch(url.href)).status).toBe(303);
    const body = await expectError(await browser.fetch(url.href), 400, 'OAUTH_STATE_INVALID');
    expect(body.message).toBe('the state is unknown, already used or expired');
  });

  it('refuses a replayed authorization code under a fresh state', async () => {
    const victim = new TestBrowser();
    fixture.provider.nextUser(person('victim'));
    const used = await callbackUrl(victim);
    expect((await victim.fetch(used.href)).status).toBe(303);
    // The attacker starts their own flow, then swaps in the victim's (spent) code.
    const attacker = new TestBrowser();
    const own = await callbackUrl(attacker);
    own.searchParams.set('code', used.searchParams.get('code')!);
    const body = await expectError(await attacker.fetch(own.href), 400, 'OAUTH_STATE_INVALID');
    expect(body.message).toMatch(/authorization code/);
    expect(attacker.cookie(fixture.origin, fixture.sessionCookie)).toBeUndefined();
  });

  it('refuses a callback in another browser than the one that started the flow', async () => {
    const starter = new TestBrowser();
    const url = await callbackUrl(starter);
    const other = new TestBrowser();
    const body = await expectError(await other.fetch(url.href), 400, 'OAUTH_STATE_INVALID');
    expect(body.message).toBe('the flow was started in another browser');
    expect(other.cookie(fixture.origin, fixture.sessionCookie)).toBeUndefined();
  });

  it('refuses a sign-in state at the connect callback (another kind of flow)', async () => {
    const { browser } = await fixture.signIn(person());
    const url = await callbackUrl(browser);
    const crossed = new URL(`${fixture.origin}/v1/connections/google/callback${url.search}`);
    const body = await expectError(
      await fixture.call(browser, 'GET', crossed.pathname + crossed.search),
      400,
      'OAUTH_STATE_INVALID',
    );
    expect(body.message).toBe('the state belongs to another kind of flow');
  });

  it('answers OAUTH_DENIED when the person refuses at the provider, and spends the state', async () => {
    const browser = new TestBrowser();
    fixture.provider.denyNext();
    const url = await callbackUrl(browser);
    expect(url.searchParams.get('error')).toBe('access_denied');
    await expectError(await browser.fetch(url.href), 403, 'OAUTH_DENIED');
    // Replaying it with a code of its own gets nowhere: the state is spent.
    url.searchParams.delete('error');
    url.searchParams.set('code', 'anything');
    await expectError(await browser.fetch(url.href), 400, 'OAUTH_STATE_INVALID');
  });

  it('rotates the session at sign-in: a planted session cookie never becomes signed in', async () => {
    const attacker = await fixture.signIn(person('attacker'));
    const planted = attacker.browser.cookie(fixture.origin, fixture.sessionCookie)!;
    const victim = new TestBrowser();
    victim.setCookie(fixture.origin, fixture.sessionCookie, planted);
    const { session } = await fixture.signIn(person('victim'), { browser: victim });
    const issued = victim.cookie(fixture.origin, fixture.sessionCookie)!;
    expect(issued).not.toBe(planted);
    expect(session.user.email).toMatch(/^victim/);
    // The planted secret was deleted, so the attacker is signed out rather than in as the victim.
    const response = await attacker.browser.fetch(`${fixture.origin}/v1/session`);
    expect(response.status).toBe(401);
    // A made-up secret is never honoured either.
    const stranger = new TestBrowser();
    stranger.setCookie(fixture.origin, fixture.sessionCookie, 'B'.repeat(43));
    expect((await stranger.fetch(`${fixture.origin}/v1/session`)).status).toBe(401);
  });

  it('sets the session cookie HttpOnly, Secure, SameSite=Lax, host-only, with an expiry', async () => {
    const browser = new TestBrowser();
    fixture.provider.nextUser(person());
    const url = await callbackUrl(browser);
    const response = await browser.fetch(url.href);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith(fixture.sessionCookie));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//i);
    expect(cookie).toMatch(/; Expires=/i);
    expect(cookie).not.toMatch(/Domain=/i);
  });

  it('refuses to make an account for an email the provider has not verified', async () => {
    const browser = new TestBrowser();
    fixture.provider.nextUser({ ...person(), emailVerified: false });
    const url = await callbackUrl(browser);
    const body = await expectError(await browser.fetch(url.href), 403, 'FORBIDDEN');
    expect(body.message).toMatch(/verified/);
  });

  it('signs out: the session ends and its cookie is cleared', async () => {
    const { browser, session } = await fixture.signIn(person());
    const response = await fixture.call(browser, 'POST', '/v1/session/sign-out');
    expect(response.status).toBe(204);
    expect(browser.cookie(fixture.origin, fixture.sessionCookie)).toBeUndefined();
    expect(session.csrfToken).toBeTruthy();
    // Sign-in and sign-out are in the tenant's record, with the client that did them.
    const events = (await fixture.auditEvents())
      .map(({ event }) => event)
      .filter(
        (event) => event.tenantId === session.tenant!.id && event.name.startsWith('session.'),
      );
    const client = { ip: browser.address, userAgent: 'node' };
    expect(events).toMatchObject([
      { name: 'session.started', userId: session.user.id, outcome: 'success', client },
      {
        name: 'session.ended',
        userId: session.user.id,
        outcome: 'success',
        client,
        data: { reason: 'signed_out' },
      },
    ]);
    expect(events[1]!.data.sessionId).toBe(events[0]!.data.sessionId);
  });

  it('logs a refused sign-in that names no tenant, and records it in no tenant', async () => {
    const before = (await fixture.auditEvents()).length;
    const browser = new TestBrowser();
    const url = await callbackUrl(browser);
    url.searchParams.set('state', 'A'.repeat(43));
    await expectError(await browser.fetch(url.href), 400, 'OAUTH_STATE_INVALID');
    const refusals = fixture.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'sign-in refused');
    expect(refusals.at(-1)).toMatchObject({
      level: 'warn',
      code: 'OAUTH_STATE_INVALID',
      provider: 'google',
      recorded: false,
      client: { ip: browser.address, userAgent: 'node' },
    });
    expect(refusals.at(-1)).not.toHaveProperty('tenantId');
    expect((await fixture.auditEvents()).slice(before)).toEqual([]);
  });

  it('refuses a provider HeroAgent does not know', async () => {
    const response = await fetch(`${fixture.origin}/v1/auth/github/start`, { redirect: 'manual' });
    await expectError(response, 400, 'INVALID_REQUEST');
  });
});

describe('sign-in when the provider or vault-proxy fails', () => {
  let fixture: GatewayFixture;

  beforeAll(async () => {
    fixture = await startGatewayFixture();
  });
  afterAll(() => fixture?.close());

  it('answers PROVIDER_UNAVAILABLE when vault-proxy cannot reach the token endpoint', async () => {
    fixture.vault.providerDown = true;
    try {
      const browser = new TestBrowser();
      const response = await browser.follow(
        `${fixture.origin}/v1/auth/google/start`,
        leavesTheApi(fixture.origin),
      );
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
      expect(browser.cookie(fixture.origin, fixture.sessionCookie)).toBeUndefined();
    } finally {
      fixture.vault.providerDown = false;
    }
  });

  it('answers TIMEOUT when vault-proxy does not answer the exchange', async () => {
    const browser = new TestBrowser();
    const started = await browser.follow(`${fixture.origin}/v1/auth/google/start`, (location) =>
      location.pathname.endsWith('/callback'),
    );
    const callback = new URL(started.headers.get('location')!);
    fixture.vault.down = true;
    try {
      const response = await browser.fetch(callback.href);
      expect(response.status).toBe(504);
      expect(await response.json()).toMatchObject({ code: 'TIMEOUT' });
    } finally {
      fixture.vault.down = false;
    }
  });

  it('never exchanges a Google code itself: its strategy has no secret and refuses a callback', async () => {
    const outcome = runStrategy(
      fixture.gateway.app.get(SignInProviders).strategy('google'),
      { query: { code: 'a-code', state: 'a-state' } } as unknown as Request,
      { callbackURL: `${fixture.origin}/v1/auth/google/callback` },
      1000,
    );
    await expect(outcome).rejects.toThrow(/vault-proxy/);
  });
});

describe('sign-up by invitation only', () => {
  let fixture: GatewayFixture;

  beforeAll(async () => {
    fixture = await startGatewayFixture({
      SIGN_UP: 'invite-only',
      SIGN_UP_BOOTSTRAP_EMAILS: 'First.Owner@example.com',
    });
  });
  afterAll(() => fixture?.close());

  it('refuses a new person without an invitation', async () => {
    const browser = new TestBrowser();
    fixture.provider.nextUser(person());
    const response = await browser.follow(
      `${fixture.origin}/v1/auth/google/start`,
      leavesTheApi(fixture.origin),
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({
      code: 'FORBIDDEN',
      message: 'joining HeroAgent here is by invitation only',
    });
  });

  it('lets the bootstrap owner in, who invites; the invited join and cannot create tenants', async () => {
    const owner = await fixture.signIn({
      sub: 'first',
      email: 'first.owner@example.com',
      name: 'First',
    });
    expect(owner.session.tenant?.role).toBe('owner');
    const invitee = person('invited');
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', {
        email: invitee.email,
        role: 'member',
      })
    ).json()) as { token: string };
    // With someone else's email, the invitation admits nobody, and no account is made.
    const browser = new TestBrowser();
    fixture.provider.nextUser(person('impostor'));
    const refused = await browser.follow(
      `${fixture.origin}/v1/auth/google/start?invitation=${token}`,
      leavesTheApi(fixture.origin),
    );
    expect(refused.status).toBe(403);
    // The refusal is in the inviting tenant's record: who tried from where, nothing personal.
    const failed = (await fixture.auditEvents()).filter(
      ({ event }) => event.name === 'session.sign_in_failed',
    );
    expect(failed.map(({ event }) => event)).toMatchObject([
      {
        tenantId: owner.session.tenant!.id,
        actor: { type: 'user', id: 'anonymous' },
        outcome: 'failure',
        client: { ip: browser.address, userAgent: 'node' },
        data: {
          provider: 'google',
          code: 'FORBIDDEN',
          failuresInWindow: 1,
          failuresOfInvitation: 1,
        },
      },
    ]);
    expect(JSON.stringify(failed)).not.toContain('impostor');
    const joined = await fixture.signIn(invitee, { invitation: token });
    expect(joined.session.tenant).toMatchObject({ id: owner.session.tenant!.id, role: 'member' });
    const created = await fixture.call(joined.browser, 'POST', '/v1/tenants', { name: 'Mine' });
    expect(created.status).toBe(403);
    expect(
      (await fixture.call(owner.browser, 'POST', '/v1/tenants', { name: 'Second' })).status,
    ).toBe(201);
  });
});

describe('refused sign-ins in a tenant record, bounded', () => {
  let fixture: GatewayFixture;

  beforeAll(async () => {
    fixture = await startGatewayFixture();
  });
  afterAll(() => fixture?.close());

  it(`records at most ${SIGN_IN_FAILURES_PER_WINDOW} refusals a window per tenant and ${SIGN_IN_FAILURES_PER_INVITATION} per invitation, however many come`, async () => {
    const owner = await fixture.signIn(person('owner'));
    const tenantId = owner.session.tenant!.id;
    const invite = async (name: string) =>
      (
        (await (
          await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', {
            email: person(name).email,
            role: 'member',
          })
        ).json()) as { id: string; token: string }
      ).token;
    const failures = fixture.gateway.app.get(SignInFailures);
    const refusal = new ContractError('FORBIDDEN', 'the invitation is for another email address');
    const fail = (token: string, times: number) =>
      Promise.all(
        Array.from({ length: times }, () =>
          failures.note(refusal, { provider: 'google', invitationHash: hashSecret(token) }),
        ),
      );
    const recordedNow = async () =>
      (await fixture.auditEvents())
        .map(({ event }) => event)
        .filter((event) => event.tenantId === tenantId && event.name === 'session.sign_in_failed');
    // Someone holding one invitation fails again and again, on every replica at once: their
    // link's share is used up, the tenant's is not.
    await fail(await invite('guest'), SIGN_IN_FAILURES_PER_WINDOW + 15);
    const ofOne = await recordedNow();
    expect(ofOne).toHaveLength(SIGN_IN_FAILURES_PER_INVITATION);
    expect(
      ofOne.filter((event) => event.data.furtherFailuresOfInvitationLoggedOnly === true),
    ).toHaveLength(1);
    // Others' refusals are still recorded, until the tenant's bound.
    const others = await Promise.all(
      Array.from({ length: 8 }, (_, index) => invite(`other-${index}`)),
    );
    await Promise.all(others.map((token) => fail(token, SIGN_IN_FAILURES_PER_INVITATION)));
    const recorded = await recordedNow();
    expect(recorded).toHaveLength(SIGN_IN_FAILURES_PER_WINDOW);
    expect(
      recorded.map((event) => event.data.failuresInWindow).sort((a, b) => Number(a) - Number(b)),
    ).toEqual(Array.from({ length: SIGN_IN_FAILURES_PER_WINDOW }, (_, index) => index + 1));
    expect(recorded.filter((event) => event.data.furtherFailuresLoggedOnly === true)).toHaveLength(
      1,
    );
    // Outside a request there is no client to name.
    expect(recorded.every((event) => event.client === undefined)).toBe(true);
    // Every one is logged, recorded or not.
    const tried = SIGN_IN_FAILURES_PER_WINDOW + 15 + 8 * SIGN_IN_FAILURES_PER_INVITATION;
    const logged = fixture.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'sign-in refused' && line.tenantId === tenantId);
    expect(logged).toHaveLength(tried);
    expect(logged.filter((line) => line.recorded === false)).toHaveLength(
      tried - SIGN_IN_FAILURES_PER_WINDOW,
    );
  });
});

describe('sign-up restricted to some email domains', () => {
  let fixture: GatewayFixture;

  beforeAll(async () => {
    fixture = await startGatewayFixture({ SIGN_UP_EMAIL_DOMAINS: 'corp.example' });
  });
  afterAll(() => fixture?.close());

  it('admits a verified address in an allowed domain, and refuses others', async () => {
    const { session } = await fixture.signIn({
      sub: 'corp-1',
      email: 'ann@corp.example',
      name: 'Ann',
    });
    expect(session.tenant?.role).toBe('owner');
    const browser = new TestBrowser();
    fixture.provider.nextUser({ sub: 'gmail-1', email: 'ann@gmail.example', name: 'Ann' });
    const response = await browser.follow(
      `${fixture.origin}/v1/auth/google/start`,
      leavesTheApi(fixture.origin),
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({
      code: 'FORBIDDEN',
      message: 'sign-up is not open to gmail.example addresses here',
    });
  });
});
