import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContractError, SEALED_TOKEN_PURPOSE } from '@heroagent/contracts';
import { generateSealingKey, generateSigningKey, seal } from '@heroagent/crypto';
import type { ContractClient } from '@heroagent/service';
import { AccessTokenCache } from './access-token-cache.js';
import { VaultProxyClient } from './vault-proxy.client.js';

const READ = 'https://www.googleapis.com/auth/gmail.readonly';

/** vault-proxy over a NATS connection the test can take down: counts the tokens it issues. */
function setUp() {
  const sealing = generateSealingKey();
  const nats = { up: true, issued: 0 };
  const client = {
    ping: () => (nats.up ? Promise.resolve() : Promise.reject(new Error('disconnected'))),
    request: () => {
      if (!nats.up) return Promise.reject(new ContractError('UNAVAILABLE', 'no NATS'));
      nats.issued += 1;
      return Promise.resolve({
        token: seal(Buffer.from(`ya29.${randomUUID()}`), sealing.publicKey, {
          sender: 'vault-proxy',
          recipient: 'gateway',
          purpose: SEALED_TOKEN_PURPOSE,
        }),
        tokenType: 'Bearer',
        scopes: [READ],
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
    },
  } as unknown as ContractClient;
  const tokens = new AccessTokenCache({ maxAgeMs: 60_000, marginMs: 60_000 });
  tokens.hearing();
  const vault = new VaultProxyClient(client, generateSigningKey(), sealing, tokens);
  const grant = {
    tenantId: randomUUID(),
    userId: randomUUID(),
    connectionId: randomUUID(),
    scopes: [READ],
  };
  return { nats, vault, grant };
}

describe('VaultProxyClient.accessToken', () => {
  it('forgets a connection’s kept token itself when it revokes it, with or without the change event', async () => {
    const { nats, vault, grant } = setUp();
    const first = await vault.accessToken(grant);
    // No change event reaches this replica (a NATS route that lost it): its own call is enough.
    await vault.revoke(grant.tenantId, grant.connectionId);
    const after = await vault.accessToken(grant);
    expect(after.token).not.toBe(first.token);
    expect(nats.issued).toBe(3);
  });

  it('forgets every kept token when it erases, even if the erasure fails', async () => {
    const { nats, vault, grant } = setUp();
    const other = { ...grant, connectionId: randomUUID() };
    const kept = [await vault.accessToken(grant), await vault.accessToken(other)];
    nats.up = false;
    await expect(vault.erase(grant.tenantId, grant.userId)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    nats.up = true;
    expect((await vault.accessToken(grant)).token).not.toBe(kept[0]!.token);
    expect((await vault.accessToken(other)).token).not.toBe(kept[1]!.token);
  });

  it('serves a kept token after a round trip to the NATS server, without asking vault-proxy', async () => {
    const { nats, vault, grant } = setUp();
    const first = await vault.accessToken(grant);
    expect((await vault.accessToken(grant)).token).toBe(first.token);
    expect(nats.issued).toBe(1);
  });

  it('serves no kept token when the NATS server cannot be reached (changes may be missed): it asks, and says why it cannot', async () => {
    const { nats, vault, grant } = setUp();
    const first = await vault.accessToken(grant);
    nats.up = false;
    await expect(vault.accessToken(grant)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    nats.up = true;
    const after = await vault.accessToken(grant);
    expect(after.token).not.toBe(first.token);
    expect(nats.issued).toBe(2);
  });
});
