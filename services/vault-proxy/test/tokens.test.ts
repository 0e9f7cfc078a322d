import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEALED_DATA_KEY_PURPOSE,
  createDataKey,
  eraseSubject,
  healthContracts,
  issueToken,
  listConnections,
  openDataKey,
  revokeConnection,
} from '@heroagent/contracts';
import { generateSigningKey, open } from '@heroagent/crypto';
import {
  CALENDAR,
  GMAIL_READ,
  GMAIL_SEND,
  MOUNTS,
  startVaultProxyFixture,
  type VaultProxyFixture,
} from './fixture.js';

describe(
  'vault-proxy: tokens, connections, revocation, erasure (Vault double, OAuth double, real Postgres and NATS)',
  { timeout: 60_000 },
  () => {
    let fixture: VaultProxyFixture;
    const tenantId = randomUUID();
    const ada = randomUUID();
    let connectionId: string;
    let refreshToken: string;

    beforeAll(async () => {
      fixture = await startVaultProxyFixture();
      ({ connectionId, refreshToken } = await fixture.connect({
        tenantId,
        userId: ada,
        scopes: [GMAIL_READ, CALENDAR],
        email: 'ada@example.com',
      }));
    });
    afterAll(() => fixture?.close());

    it('stores the refresh token in Vault KV v2 and lists the connection without it', async () => {
      const stored = fixture.vault.requests.find(
        (request) =>
          request.method === 'POST' &&
          request.path === `${MOUNTS.kv}/data/tenants/${tenantId}/connections/${connectionId}`,
      );
      expect(stored?.body).toEqual({ data: { refresh_token: refreshToken } });
      const { connections } = await fixture.client.request(listConnections, {
        tenantId,
        userId: ada,
      });
      expect(connections).toEqual([
        expect.objectContaining({
          id: connectionId,
          provider: 'google',
          account: 'ada@example.com',
          scopes: [CALENDAR, GMAIL_READ].sort(),
          status: 'active',
        }),
      ]);
      expect(JSON.stringify(connections)).not.toContain(refreshToken);
    });

    it("issues an access token sealed to the gateway, reporting the provider's real expiry, and serves it from cache", async () => {
      const before = fixture.provider.refreshCalls;
      const asked = Date.now();
      const first = await fixture.token({
        tenantId,
        userId: ada,
        connectionId,
        scopes: [GMAIL_READ],
      });
      expect(first.accessToken).toBe(fixture.provider.issuedAccessTokens.at(-1));
      // The double's tokens live 3599 s, as Google's do: that is what the gateway is told.
      const expiresAt = Date.parse(first.expiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(asked + 3_599_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_599_000);
      const second = await fixture.token({
        tenantId,
        userId: ada,
        connectionId,
        scopes: [GMAIL_READ],
      });
      expect(second.accessToken).toBe(first.accessToken);
      expect(fixture.provider.refreshCalls).toBe(before + 1);
    });

    it('refreshes once per connection however many requests arrive together', async () => {
      const { connectionId: fresh } = await fixture.connect({
        tenantId,
        userId: ada,
        scopes: [CALENDAR],
      });
      fixture.provider.latencyMs = 150;
      const before = fixture.provider.refreshCalls;
      try {
        const tokens = await Promise.all(
          Array.from({ length: 20 }, () =>
            fixture.token({ tenantId, userId: ada, connectionId: fresh, scopes: [CALENDAR] }),
          ),
        );
        expect(new Set(tokens.map((token) => token.accessToken)).size).toBe(1);
        expect(fixture.provider.refreshCalls).toBe(before + 1);
      } finally {
        fixture.provider.latencyMs = 0;
      }
    });

    it('refreshes a token that has less than the margin left, and stores a rotated refresh token', async () => {
      const rotating = fixture.provider.grant([GMAIL_READ], { expiresIn: 60, rotate: true });
      const { connectionId: short } = await fixture.connect({
        tenantId,
        userId: ada,
        scopes: [GMAIL_READ],
        refreshToken: rotating,
      });
      const before = fixture.provider.refreshCalls;
      const one = await fixture.token({
        tenantId,
        userId: ada,
        connectionId: short,
        scopes: [GMAIL_READ],
      });
      // 60 s left is under the 120 s margin: a second request refreshes again, with the rotated token.
      const two = await fixture.token({
        tenantId,
        userId: ada,
        connectionId: short,
        scopes: [GMAIL_READ],
      });
      expect(two.accessToken).not.toBe(one.accessToken);
      expect(fixture.provider.refreshCalls).toBe(before + 2);
      // Never past the provider's expiry.
      expect(Date.parse(two.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
      const writes = fixture.vault.requests.filter(
        (request) => request.method === 'POST' && request.path.endsWith(`/connections/${short}`),
      );
      expect(writes.length).toBe(3);
    });

    it('refuses scopes beyond the grant', async () => {
      await expect(
        fixture.token({ tenantId, userId: ada, connectionId, scopes: [GMAIL_SEND] }),
      ).rejects.toMatchObject({ code: 'SCOPE_NOT_GRANTED' });
      await expect(
        fixture.token({ tenantId, userId: randomUUID(), connectionId, scopes: [GMAIL_READ] }),
      ).rejects.toMatchObject({
        code: 'CONNECTION_NOT_FOUND',
      });
      await expect(
        fixture.token({ tenantId: randomUUID(), userId: ada, connectionId, scopes: [GMAIL_READ] }),
      ).rejects.toMatchObject({
        code: 'CONNECTION_NOT_FOUND',
      });
    });

    it('answers only the gateway: another key, a changed grant, a stale request and another subject are refused (replays: replay.test.ts)', async () => {
      const grant = { tenantId, userId: ada, connectionId, scopes: [GMAIL_READ] };
      await expect(
        fixture.client.request(
          issueToken,
          fixture.signed(issueToken, grant, generateSigningKey(fixture.gatewaySigning.kid)),
        ),
      ).rejects.toMatchObject({
        code: 'SIGNATURE_INVALID',
      });
      const genuine = fixture.signed(issueToken, grant);
      await expect(
        fixture.client.request(issueToken, {
          ...genuine,
          grant: { ...genuine.grant, scopes: [CALENDAR] },
        }),
      ).rejects.toMatchObject({
        code: 'SIGNATURE_INVALID',
      });
      const stale = fixture.signed(issueToken, grant);
      const old = { ...stale.grant, issuedAt: new Date(Date.now() - 10 * 60_000).toISOString() };
      const { signJson } = await import('@heroagent/crypto');
      await expect(
        fixture.client.request(issueToken, {
          grant: old,
          signature: signJson(old, issueToken.subject, fixture.gatewaySigning),
        }),
      ).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      const forRevocation = fixture.signed(revokeConnection, { tenantId, connectionId });
      await expect(
        fixture.client.request(issueToken, {
          grant: {
            ...grant,
            requestId: forRevocation.grant.requestId,
            issuedAt: forRevocation.grant.issuedAt,
          },
          signature: forRevocation.signature,
        }),
      ).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    });

    it('marks a connection broken when the provider answers invalid_grant, and says so', async () => {
      const token = fixture.provider.grant([GMAIL_READ]);
      const { connectionId: doomed } = await fixture.connect({
        tenantId,
        userId: ada,
        scopes: [GMAIL_READ],
        refreshToken: token,
      });
      fixture.provider.invalidate(token);
      await expect(
        fixture.token({ tenantId, userId: ada, connectionId: doomed, scopes: [GMAIL_READ] }),
      ).rejects.toMatchObject({ code: 'CONNECTION_BROKEN' });
      const calls = fixture.provider.refreshCalls;
      await expect(
        fixture.token({ tenantId, userId: ada, connectionId: doomed, scopes: [GMAIL_READ] }),
      ).rejects.toMatchObject({ code: 'CONNECTION_BROKEN' });
      expect(fixture.provider.refreshCalls).toBe(calls);
      const { connections } = await fixture.client.request(listConnections, {
        tenantId,
        userId: ada,
      });
      expect(connections.find((connection) => connection.id === doomed)?.status).toBe(
        'needs_consent',
      );
    });

    it('says PROVIDER_UNAVAILABLE when the provider is down', async () => {
      const { connectionId: later } = await fixture.connect({
        tenantId,
        userId: ada,
        scopes: [GMAIL_READ],
      });
      fixture.provider.down = true;
      try {
        await expect(
          fixture.token({ tenantId, userId: ada, connectionId: later, scopes: [GMAIL_READ] }),
        ).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
      } finally {
        fixture.provider.down = false;
      }
    });

    it('fails closed when Vault is sealed: SECRETS_UNAVAILABLE, and health says degraded', async () => {
      const { connectionId: uncached } = await fixture.connect({
        tenantId,
        userId: ada,
        scopes: [GMAIL_READ],
      });
      fixture.vault.sealed = true;
      try {
        await expect(
          fixture.token({ tenantId, userId: ada, connectionId: uncached, scopes: [GMAIL_READ] }),
        ).rejects.toMatchObject({ code: 'SECRETS_UNAVAILABLE' });
        const health = await fixture.client.request(healthContracts['vault-proxy'], {});
        expect(health.status).toBe('degraded');
        expect(health.checks.find((check) => check.name === 'vault')).toMatchObject({
          status: 'down',
          detail: 'sealed',
        });
      } finally {
        fixture.vault.sealed = false;
      }
    });

    it('revokes at the provider (RFC 7009), deletes every version from Vault, and refuses the next issue', async () => {
      const { connectionId: revoking, refreshToken: token } = await fixture.connect({
        tenantId,
        userId: ada,
        scopes: [CALENDAR],
      });
      await fixture.token({ tenantId, userId: ada, connectionId: revoking, scopes: [CALENDAR] });
      const result = await fixture.client.request(
        revokeConnection,
        fixture.signed(revokeConnection, { tenantId, connectionId: revoking }),
      );
      expect(result).toMatchObject({
        connection: { status: 'revoking' },
        revocation: { status: 'pending', reason: 'disconnect' },
      });
      await fixture.revocationsSettled(tenantId);
      expect(fixture.provider.revoked).toContain(token);
      const { connections } = await fixture.client.request(listConnections, { tenantId });
      expect(connections.find((connection) => connection.id === revoking)).toMatchObject({
        status: 'revoked',
        revocation: {
          id: result.revocation.id,
          status: 'completed',
          providerStatus: 200,
          providerAnswer: 'revoked',
        },
      });
      expect(fixture.vault.requests.at(-1)).toMatchObject({
        method: 'DELETE',
        path: `${MOUNTS.kv}/metadata/tenants/${tenantId}/connections/${revoking}`,
      });
      await expect(
        fixture.token({ tenantId, userId: ada, connectionId: revoking, scopes: [CALENDAR] }),
      ).rejects.toMatchObject({ code: 'CONNECTION_REVOKED' });
    });

    it('erases a person: connections revoked and deleted, their key destroyed, their data keys unreadable', async () => {
      const bob = randomUUID();
      await fixture.connect({ tenantId, userId: bob, scopes: [GMAIL_READ] });
      const owner = { scope: 'user' as const, id: bob };
      const created = await fixture.client.request(
        createDataKey,
        fixture.signed(createDataKey, { tenantId, owner }),
      );
      const plaintext = open(created.plaintext, fixture.gatewaySealing, {
        sender: 'vault-proxy',
        recipient: 'gateway',
        purpose: SEALED_DATA_KEY_PURPOSE,
      });
      const reopened = await fixture.client.request(
        openDataKey,
        fixture.signed(openDataKey, { tenantId, owner, wrapped: created.wrapped }),
      );
      expect(
        open(reopened.plaintext, fixture.gatewaySealing, {
          sender: 'vault-proxy',
          recipient: 'gateway',
          purpose: SEALED_DATA_KEY_PURPOSE,
        }),
      ).toEqual(plaintext);
      expect(
        await fixture.client.request(
          eraseSubject,
          fixture.signed(eraseSubject, { tenantId, userId: bob }),
        ),
      ).toEqual({ revocationsQueued: 1, keysDeleted: 1 });
      // Crypto-shredding is immediate; only the refresh token waits for the provider.
      await expect(
        fixture.client.request(
          openDataKey,
          fixture.signed(openDataKey, { tenantId, owner, wrapped: created.wrapped }),
        ),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await fixture.revocationsSettled(tenantId);
      expect(
        (await fixture.client.request(listConnections, { tenantId, userId: bob })).connections,
      ).toEqual([]);
      // Ada is untouched.
      expect(
        (await fixture.client.request(listConnections, { tenantId, userId: ada })).connections
          .length,
      ).toBeGreaterThan(0);
    });

    it('erases a whole tenant: every secret and key', async () => {
      const doomedTenant = randomUUID();
      await fixture.connect({ tenantId: doomedTenant, userId: randomUUID(), scopes: [GMAIL_READ] });
      await fixture.connect({ tenantId: doomedTenant, userId: randomUUID(), scopes: [CALENDAR] });
      await fixture.client.request(
        createDataKey,
        fixture.signed(createDataKey, {
          tenantId: doomedTenant,
          owner: { scope: 'tenant', id: doomedTenant },
        }),
      );
      const result = await fixture.client.request(
        eraseSubject,
        fixture.signed(eraseSubject, { tenantId: doomedTenant }),
      );
      expect(result).toEqual({ revocationsQueued: 2, keysDeleted: 1 });
      await fixture.revocationsSettled(doomedTenant);
      expect(
        (await fixture.client.request(listConnections, { tenantId: doomedTenant })).connections,
      ).toEqual([]);
    });

    it('never lets a token, a refresh token or the Vault token appear in a log line, an error or a NATS message', () => {
      const secrets = [
        fixture.vaultProxyToken,
        fixture.vault.rootToken,
        fixture.provider.clientSecret,
        ...fixture.provider.issuedAccessTokens,
        refreshToken,
      ];
      const seen = [...fixture.logs, ...fixture.traffic].join('\n');
      expect(fixture.logs.some((line) => line.includes('CONNECTION_BROKEN'))).toBe(true);
      expect(fixture.traffic.length).toBeGreaterThan(20);
      for (const secret of secrets)
        expect(seen.includes(secret), `a secret leaked: ${secret.slice(0, 8)}…`).toBe(false);
      // The sealed tokens did cross NATS, and only as ciphertext.
      expect(
        fixture.traffic.some((message) => message.includes('X25519-HKDF-SHA256-A256GCM')),
      ).toBe(true);
    });
  },
);
