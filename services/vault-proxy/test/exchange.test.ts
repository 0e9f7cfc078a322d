import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeCode, listConnections } from '@heroagent/contracts';
import { generateSigningKey } from '@heroagent/crypto';
import {
  CALENDAR,
  GMAIL_READ,
  GMAIL_SEND,
  startVaultProxyFixture,
  type VaultProxyFixture,
} from './fixture.js';

/**
 * `vault.oauth.exchange`: vault-proxy, holding the client secret, exchanges the code the gateway
 * received; every way a grant can be wrong is refused with a code and stores nothing.
 */
describe('vault-proxy: the OAuth code exchange', { timeout: 60_000 }, () => {
  let fixture: VaultProxyFixture;
  const tenantId = randomUUID();
  const ada = randomUUID();
  const connect = (requestedScopes: string[]) =>
    ({ purpose: 'connect', tenantId, userId: ada, requestedScopes }) as const;

  beforeAll(async () => {
    fixture = await startVaultProxyFixture();
  });
  afterAll(() => fixture?.close());

  /** Vault writes and stored connections, to show a refusal changed nothing. */
  async function stored() {
    const writes = fixture.vault.requests.filter((request) => request.method === 'POST').length;
    const { connections } = await fixture.client.request(listConnections, { tenantId });
    return { writes, connections: connections.length };
  }

  it('signs a person in: the identity from the ID token, no token stored, none handed out', async () => {
    const before = await stored();
    const answer = await fixture.client.request(
      exchangeCode,
      fixture.signed(
        exchangeCode,
        fixture.authorized({
          intent: { purpose: 'sign_in' },
          scopes: ['profile'],
          email: 'grace@example.com',
        }),
      ),
    );
    expect(answer).toEqual({
      identity: {
        provider: 'google',
        issuer: fixture.provider.issuer,
        subject: '100000000000000000001',
        email: 'grace@example.com',
        emailVerified: true,
        displayName: null,
      },
      grantedScopes: ['openid', 'email', 'profile'],
    });
    expect(await stored()).toEqual(before);
    expect(JSON.stringify(answer)).not.toContain('ya29.');
  });

  it('connects with exactly the scopes the person left ticked; an action needing another says which', async () => {
    const { connectionId, grantedScopes } = await fixture.connect({
      tenantId,
      userId: ada,
      scopes: [GMAIL_READ, GMAIL_SEND, CALENDAR],
      granted: [GMAIL_READ],
    });
    expect(grantedScopes).toEqual(['openid', 'email', GMAIL_READ]);
    const { connections } = await fixture.client.request(listConnections, { tenantId });
    expect(connections.find((connection) => connection.id === connectionId)?.scopes).toEqual([
      GMAIL_READ,
    ]);
    const refusal: unknown = await fixture
      .token({ tenantId, userId: ada, connectionId, scopes: [GMAIL_SEND] })
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: 'SCOPE_NOT_GRANTED' });
    expect((refusal as Error).message).toContain(GMAIL_SEND);
    const token = await fixture.token({
      tenantId,
      userId: ada,
      connectionId,
      scopes: [GMAIL_READ],
    });
    expect(token.scopes).toEqual([GMAIL_READ]);
  });

  it('refuses a replayed grant (FORBIDDEN) and an altered one (SIGNATURE_INVALID)', async () => {
    const request = fixture.signed(
      exchangeCode,
      fixture.authorized({ intent: connect([CALENDAR]), scopes: [CALENDAR] }),
    );
    await fixture.client.request(exchangeCode, request);
    const before = await stored();
    await expect(fixture.client.request(exchangeCode, request)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const other = fixture.signed(
      exchangeCode,
      fixture.authorized({ intent: connect([CALENDAR]), scopes: [CALENDAR] }),
    );
    await expect(
      fixture.client.request(exchangeCode, {
        ...other,
        grant: { ...other.grant, intent: { ...connect([CALENDAR]), userId: randomUUID() } },
      }),
    ).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    const forged = fixture.signed(
      exchangeCode,
      fixture.authorized({ intent: connect([CALENDAR]), scopes: [CALENDAR] }),
      generateSigningKey(),
    );
    await expect(fixture.client.request(exchangeCode, forged)).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
    expect(await stored()).toEqual(before);
  });

  it('refuses a code for another redirect URI, another verifier, or another nonce (OAUTH_STATE_INVALID)', async () => {
    const before = await stored();
    const grant = () => fixture.authorized({ intent: connect([CALENDAR]), scopes: [CALENDAR] });
    const tampered = [
      { ...grant(), redirectUri: 'https://evil.example/v1/connections/google/callback' },
      { ...grant(), codeVerifier: 'x'.repeat(43) },
      { ...grant(), nonce: 'another-nonce-of-this-flow' },
    ];
    for (const wrong of tampered) {
      await expect(
        fixture.client.request(exchangeCode, fixture.signed(exchangeCode, wrong)),
      ).rejects.toMatchObject({ code: 'OAUTH_STATE_INVALID' });
    }
    expect(await stored()).toEqual(before);
  });

  it('refuses a sign-in that tries to store a token, a connection without offline access, and one without any requested scope', async () => {
    const before = await stored();
    const signIn = fixture.authorized({ intent: { purpose: 'sign_in' }, scopes: [CALENDAR] });
    await expect(
      fixture.client.request(
        exchangeCode,
        fixture.signed(exchangeCode, {
          ...signIn,
          intent: { purpose: 'sign_in', tenantId, userId: ada, requestedScopes: [CALENDAR] },
        }),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    // A code from a consent without offline access (as a sign-in's is), offered as a connection.
    await expect(
      fixture.client.request(
        exchangeCode,
        fixture.signed(exchangeCode, { ...signIn, intent: connect([CALENDAR]) }),
      ),
    ).rejects.toMatchObject({ code: 'OAUTH_DENIED' });
    await expect(
      fixture.client.request(
        exchangeCode,
        fixture.signed(
          exchangeCode,
          fixture.authorized({ intent: connect([CALENDAR]), scopes: [CALENDAR], granted: [] }),
        ),
      ),
    ).rejects.toMatchObject({ code: 'OAUTH_DENIED' });
    expect(await stored()).toEqual(before);
  });

  it('says PROVIDER_UNAVAILABLE when the token endpoint is down', async () => {
    fixture.provider.down = true;
    try {
      await expect(
        fixture.client.request(
          exchangeCode,
          fixture.signed(
            exchangeCode,
            fixture.authorized({ intent: connect([CALENDAR]), scopes: [CALENDAR] }),
          ),
        ),
      ).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    } finally {
      fixture.provider.down = false;
    }
  });

  it('never lets the client secret, a code or a token reach a log line or a NATS message', () => {
    const seen = [...fixture.logs, ...fixture.traffic].join('\n');
    expect(seen).not.toContain(fixture.provider.clientSecret);
    for (const token of [
      ...fixture.provider.issuedAccessTokens,
      ...fixture.provider.issuedRefreshTokens,
    ]) {
      expect(seen.includes(token)).toBe(false);
    }
  });
});
