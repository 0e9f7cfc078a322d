import { AUDIT_EVENT_PURPOSE, executeAction } from '@heroagent/contracts';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import { verifyJson, type JsonValue } from '@heroagent/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '@heroagent/doubles';
import {
  CALENDAR_READ,
  GMAIL_READ,
  leavesTheApi,
  startGatewayFixture,
  type GatewayFixture,
} from './support/fixture.js';
import { Housekeeping } from '../src/housekeeping.js';
import { person } from './support/people.js';

interface ConnectionView {
  id: string;
  userId: string;
  account: string;
  scopes: string[];
  status: string;
  health: string;
}

describe('connected accounts, export and account closure', () => {
  let fixture: GatewayFixture;

  /** Connects a Google account for a signed-in browser; returns the last response. */
  async function connect(
    browser: TestBrowser,
    account: { sub: string; email: string; name: string },
    scopes = 'gmail.read,calendar.read',
  ) {
    fixture.provider.nextUser(account);
    return browser.follow(
      `${fixture.origin}/v1/connections/google/start?scopes=${scopes}&returnTo=/connections`,
      leavesTheApi(fixture.origin),
    );
  }

  async function connections(browser: TestBrowser, query = '') {
    const response = await fixture.call(browser, 'GET', `/v1/connections${query}`);
    return {
      status: response.status,
      body: (await response.json()) as { connections: ConnectionView[]; code?: string },
    };
  }

  beforeAll(async () => {
    fixture = await startGatewayFixture();
  });
  afterAll(() => fixture?.close());

  it('connects Google with offline access and incremental consent; vault-proxy exchanges the code, no token reaches the gateway', async () => {
    const { browser, session } = await fixture.signIn(person('ada'));
    const account = person('ada-work');
    const exchangesBefore = fixture.provider.tokenRequests;
    const last = await connect(browser, account);
    expect(last.status).toBe(303);
    expect(last.headers.get('location')).toBe('/connections');
    const sent = fixture.provider.lastAuthorizationParams()!;
    expect(sent.get('access_type')).toBe('offline');
    expect(sent.get('prompt')).toBe('consent');
    expect(sent.get('include_granted_scopes')).toBe('true');
    expect(sent.get('scope')?.split(' ')).toEqual(['openid', 'email', GMAIL_READ, CALENDAR_READ]);
    expect(sent.get('code_challenge_method')).toBe('S256');

    const exchanged = fixture.vault.received.filter((r) => r.subject === 'vault.oauth.exchange');
    const grant = exchanged.at(-1)!.grant;
    expect(grant).toMatchObject({
      provider: 'google',
      redirectUri: `${fixture.origin}/v1/connections/google/callback`,
      nonce: sent.get('nonce'),
      intent: {
        purpose: 'connect',
        tenantId: session.tenant!.id,
        userId: session.user.id,
        requestedScopes: [GMAIL_READ, CALENDAR_READ],
      },
    });
    expect(String(grant.codeVerifier)).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    // One call to Google's token endpoint for this flow, and it was vault-proxy's.
    expect(fixture.provider.tokenRequests - exchangesBefore).toBe(1);
    const connectionId = [...fixture.vault.connections.values()].find(
      (connection) => connection.account === account.email,
    )!.id;
    expect(fixture.vault.refreshTokens.get(connectionId)).toMatch(/.{20,}/);
    // What Google answered (access, refresh and ID tokens) is nowhere in what the gateway saw,
    // said or logged.
    const gatewaySaw = [
      ...fixture.vault.received.map((r) => JSON.stringify(r.grant)),
      ...fixture.logs,
    ].join('\n');
    expect(fixture.vault.providerTokens.length).toBeGreaterThanOrEqual(3);
    for (const token of fixture.vault.providerTokens) expect(gatewaySaw).not.toContain(token);

    const listed = await connections(browser);
    expect(listed.body.connections).toEqual([
      expect.objectContaining({
        account: account.email,
        scopes: [GMAIL_READ, CALENDAR_READ].sort(),
        health: 'working',
      }),
    ]);
  });

  it('records exactly the scopes a person left ticked; an action needing another says which', async () => {
    const { browser } = await fixture.signIn(person('partial'));
    fixture.provider.grantOnlyNext([GMAIL_READ]);
    const last = await connect(browser, person('partial-acct'));
    expect(last.status).toBe(303);
    const [connection] = (await connections(browser)).body.connections;
    expect(connection).toMatchObject({ scopes: [GMAIL_READ], health: 'working' });
    const audited = (await fixture.auditEvents()).find(
      (e) => e.event.name === 'connection.created' && e.event.data.connectionId === connection!.id,
    );
    expect(audited?.event.data.scopes).toEqual([GMAIL_READ]);
    // The calendar permission was unticked: a calendar action fails, naming the scope it needs.
    const { capability } = (await (
      await fixture.call(browser, 'POST', '/v1/tasks', {
        title: 'Look at my week',
        actions: ['calendar.events.list'],
        connectionId: connection!.id,
      })
    ).json()) as { capability: string };
    const agent = ContractClient.create(
      natsEnvSchema.parse({ NATS_URL: fixture.nats.url }),
      'agent',
    );
    await agent.connect();
    try {
      const refusal: unknown = await agent
        .request(executeAction, {
          capability,
          action: 'calendar.events.list',
          params: {
            timeMin: '2026-12-07T00:00:00Z',
            timeMax: '2026-12-14T00:00:00Z',
          },
          idempotencyKey: `key-${connection!.id}`,
          rationale: 'Listing the week, as asked.',
        })
        .catch((error: unknown) => error);
      // Either calendar scope would do: the refusal names both, so the person knows what to grant.
      expect(refusal).toMatchObject({ code: 'SCOPE_NOT_GRANTED' });
      expect((refusal as Error).message).toContain('auth/calendar.readonly');
      expect((refusal as Error).message).toContain('auth/calendar.events');
    } finally {
      await agent.close();
    }
  });

  it('keeps several accounts apart, and updates one connected again with more scopes', async () => {
    const { browser } = await fixture.signIn(person('grace'));
    const work = person('grace-work');
    const home = person('grace-home');
    await connect(browser, work, 'gmail.read');
    await connect(browser, home, 'calendar.read');
    await connect(browser, work, 'gmail.send');
    const listed = (await connections(browser)).body.connections;
    expect(listed).toHaveLength(2);
    const workConnection = listed.find((c) => c.account === work.email)!;
    // Incremental authorisation: the scopes granted before and now, together.
    expect(workConnection.scopes.sort()).toEqual(
      [GMAIL_READ, 'https://www.googleapis.com/auth/gmail.send'].sort(),
    );
  });

  it('refuses a connection the person declined or granted nothing useful to', async () => {
    const { browser } = await fixture.signIn(person('linus'));
    fixture.provider.denyNext();
    const denied = await connect(browser, person('linus-acct'));
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: 'OAUTH_DENIED' });
    expect((await connections(browser)).body.connections).toEqual([]);
  });

  it('refuses unknown scope bundles and a connect flow finished in another session', async () => {
    const { browser } = await fixture.signIn(person('mallory'));
    const bad = await fixture.call(browser, 'GET', '/v1/connections/google/start?scopes=drive.all');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'INVALID_REQUEST' });
    // Same browser, but the session that started the flow is not the one finishing it.
    const started = await browser.follow(
      `${fixture.origin}/v1/connections/google/start?scopes=gmail.read`,
      (location) => location.pathname.endsWith('/callback'),
    );
    const callback = new URL(started.headers.get('location')!);
    await fixture.signIn(person('mallory-again'), { browser });
    const response = await browser.fetch(callback.href);
    expect(response.status).toBe(400);
    // Signing in again ended the session the flow belonged to, and the flow with it.
    expect(await response.json()).toMatchObject({ code: 'OAUTH_STATE_INVALID' });
    expect((await connections(browser)).body.connections).toEqual([]);
  });

  it('shows a member only their own connections; owners, admins and auditors see others', async () => {
    const owner = await fixture.signIn(person('owner'));
    const email = person('member').email;
    const invited = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role: 'member' })
    ).json()) as { token: string };
    const member = await fixture.signIn(
      { sub: `sub-${email}`, email, name: 'Member' },
      { invitation: invited.token },
    );
    await connect(owner.browser, person('owner-acct'));
    await connect(member.browser, person('member-acct'));
    const ownerId = owner.session.user.id;

    const own = await connections(member.browser);
    expect(own.body.connections.map((c) => c.userId)).toEqual([member.session.user.id]);
    const snooping = await connections(member.browser, `?userId=${ownerId}`);
    expect(snooping.status).toBe(403);
    expect(JSON.stringify(snooping.body)).not.toContain('owner-acct');
    const all = await connections(member.browser, '?userId=all');
    expect(all.status).toBe(403);

    const overseen = await connections(owner.browser, '?userId=all');
    expect(overseen.body.connections).toHaveLength(2);
    const theirs = await connections(owner.browser, `?userId=${member.session.user.id}`);
    expect(theirs.body.connections.map((c) => c.userId)).toEqual([member.session.user.id]);

    // A member cannot revoke someone else's connection (nor learn it exists); its owner can.
    const ownerConnection = overseen.body.connections.find((c) => c.userId === ownerId)!;
    const refused = await fixture.call(
      member.browser,
      'DELETE',
      `/v1/connections/${ownerConnection.id}`,
    );
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
    expect(fixture.vault.connections.get(ownerConnection.id)?.status).toBe('active');
    const memberConnection = overseen.body.connections.find((c) => c.userId !== ownerId)!;
    expect(
      (await fixture.call(member.browser, 'DELETE', `/v1/connections/${memberConnection.id}`))
        .status,
    ).toBe(204);
    // Unusable at once; revoked once Google confirms, with the receipt.
    expect((await connections(member.browser)).body.connections[0]).toMatchObject({
      status: 'revoking',
      health: 'revoking',
      revocation: { status: 'pending', reason: 'disconnect' },
    });
    const [receipt] = fixture.vault.settleRevocations();
    expect((await connections(member.browser)).body.connections[0]).toMatchObject({
      status: 'revoked',
      health: 'revoked',
      revocation: { id: receipt!.id, status: 'completed', providerAnswer: 'revoked' },
    });
    // The receipt becomes one audit event, whose id is the receipt's, however often it is recorded.
    const housekeeping = fixture.gateway.app.get(Housekeeping);
    expect(await housekeeping.recordRevocations()).toBe(1);
    expect(await housekeeping.recordRevocations()).toBe(0);
    // An acknowledgement lost on the way: the receipt is listed again, and not recorded twice.
    fixture.vault.revocations.get(receipt!.id)!.reported = false;
    expect(await housekeeping.recordRevocations()).toBe(1);
    const confirmed = (await fixture.auditEvents()).filter(
      (e) => e.event.name === 'connection.revocation_confirmed',
    );
    expect(confirmed).toHaveLength(1);
    expect(confirmed[0]!.event).toMatchObject({
      id: receipt!.id,
      tenantId: owner.session.tenant!.id,
      userId: member.session.user.id,
      actor: { type: 'service', id: 'vault-proxy' },
      outcome: 'success',
      data: {
        receiptId: receipt!.id,
        connectionId: memberConnection.id,
        providerAnswer: 'revoked',
        providerStatus: 200,
      },
    });
    // An admin (here the owner) may revoke anyone's.
    expect(
      (await fixture.call(owner.browser, 'DELETE', `/v1/connections/${ownerConnection.id}`)).status,
    ).toBe(204);
  });

  it('exports everything it holds about a person, never a token', async () => {
    const { browser, session } = await fixture.signIn(person('export'));
    await connect(browser, person('export-acct'));
    const response = await fixture.call(browser, 'GET', '/v1/me/export');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain('attachment');
    const data = (await response.json()) as {
      format: string;
      user: { id: string; email: string };
      identities: { subject: string }[];
      sessions: object[];
      tenants: { id: string; role: string; connections: ConnectionView[] }[];
    };
    expect(data.format).toBe('heroagent.export.v1');
    expect(data.user).toMatchObject({ id: session.user.id, email: session.user.email });
    expect(data.identities).toHaveLength(1);
    expect(data.sessions.length).toBeGreaterThan(0);
    expect(data.tenants).toEqual([
      expect.objectContaining({
        id: session.tenant!.id,
        role: 'owner',
        connections: [expect.any(Object)],
      }),
    ]);
    const text = JSON.stringify(data);
    for (const token of fixture.vault.refreshTokens.values()) expect(text).not.toContain(token);
    expect(text).not.toContain(browser.cookie(fixture.origin, fixture.sessionCookie)!);
  });

  it('closes an account: connections revoked, secrets erased, recorded and signed, the person gone', async () => {
    const who = person('leaving');
    const { browser, session } = await fixture.signIn(who);
    await connect(browser, person('leaving-acct'));
    await fixture.call(browser, 'POST', '/v1/tenants', { name: 'Shared' });
    const shared = await fixture.session(browser);
    const email = person('colleague').email;
    const invited = (await (
      await fixture.call(browser, 'POST', '/v1/tenant/invitations', { email, role: 'member' })
    ).json()) as { token: string };
    const colleague = await fixture.signIn(
      { sub: `sub-${email}`, email, name: 'Colleague' },
      { invitation: invited.token },
    );

    const wrong = await fixture.call(browser, 'POST', '/v1/me/close', {
      confirm: 'nope@example.com',
    });
    expect(wrong.status).toBe(400);
    // The only owner of a tenant with other members must hand it over first.
    const blocked = await fixture.call(browser, 'POST', '/v1/me/close', { confirm: who.email });
    expect(blocked.status).toBe(409);
    expect(await blocked.json()).toMatchObject({ code: 'CONFLICT' });
    await fixture.call(browser, 'PATCH', `/v1/tenant/members/${colleague.session.user.id}`, {
      role: 'owner',
    });
    const closed = await fixture.call(browser, 'POST', '/v1/me/close', {
      confirm: who.email.toUpperCase(),
    });
    expect(closed.status).toBe(204);
    expect(browser.cookie(fixture.origin, fixture.sessionCookie)).toBeUndefined();

    // Their own tenant (alone in it) is closed; in the shared one only their secrets go.
    expect(fixture.vault.erased).toContainEqual({
      tenantId: session.tenant!.id,
      userId: undefined,
    });
    expect(fixture.vault.erased).toContainEqual({
      tenantId: shared.tenant!.id,
      userId: session.user.id,
    });
    // Their data keys are gone at once; their connections wait for Google's confirmation.
    const theirs = () =>
      [...fixture.vault.connections.values()].filter((c) => c.userId === session.user.id);
    expect(theirs().map((c) => c.status)).toEqual(['revoking']);
    fixture.vault.settleRevocations();
    expect(theirs()).toEqual([]);
    const events = (await fixture.auditEvents()).filter((e) => e.event.userId === session.user.id);
    const names = events.map((e) => e.event.name);
    expect(names).toContain('account.closed');
    expect(names).toContain('tenant.closed');
    for (const { event, signature } of events) {
      expect(() =>
        verifyJson(event as unknown as JsonValue, AUDIT_EVENT_PURPOSE, signature, (kid) =>
          kid === fixture.gatewaySigning.kid ? fixture.gatewaySigning.publicKey : undefined,
        ),
      ).not.toThrow();
    }
    // Signing in again makes a new person: nothing of the old one is left to find.
    const again = await fixture.signIn(who);
    expect(again.session.user.id).not.toBe(session.user.id);
    const members = (await (
      await fixture.call(colleague.browser, 'GET', '/v1/tenant/members')
    ).json()) as { members: { userId: string }[] };
    expect(members.members.map((m) => m.userId)).toEqual([colleague.session.user.id]);
  });

  it('never logs a refresh token, a session secret, an OAuth code or state', async () => {
    const { browser } = await fixture.signIn(person('logs'));
    await connect(browser, person('logs-acct'));
    const text = fixture.logs.join('\n');
    expect(fixture.logs.length).toBeGreaterThan(0);
    for (const token of fixture.vault.refreshTokens.values()) expect(text).not.toContain(token);
    expect(text).not.toContain(browser.cookie(fixture.origin, fixture.sessionCookie)!);
    const sent = fixture.provider.lastAuthorizationParams()!;
    expect(text).not.toContain(sent.get('state')!);
    expect(text).not.toContain(sent.get('code_challenge')!);
  });

  it('answers a coded error when vault-proxy does not answer', async () => {
    const { browser } = await fixture.signIn(person('outage'));
    fixture.vault.down = true;
    try {
      const response = await fixture.call(browser, 'GET', '/v1/connections');
      expect(response.status).toBe(504);
      expect(await response.json()).toMatchObject({ code: 'TIMEOUT' });
    } finally {
      fixture.vault.down = false;
    }
  });
});
