import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConnections, revokeConnection, type Connection } from '@heroagent/contracts';
import { HoldingProxy } from './doubles/holding-proxy.js';
import { GMAIL_READ, MOUNTS, startVaultProxyFixture, type VaultProxyFixture } from './fixture.js';
import { LockWatch, until } from './races.js';

/**
 * What else writes a connection while its revocation is pending — a code exchange for the same
 * account, a refresh that fails — never makes it usable again nor takes the revocation back.
 */
describe('vault-proxy: writers racing a revocation', { timeout: 60_000 }, () => {
  let fixture: VaultProxyFixture;
  let google: HoldingProxy;
  let vault: HoldingProxy;
  let locks: LockWatch;

  beforeAll(async () => {
    google = await HoldingProxy.start();
    vault = await HoldingProxy.start();
    fixture = await startVaultProxyFixture({}, { provider: google, vault });
    locks = new LockWatch(fixture.database.adminUrl);
  });
  afterAll(async () => {
    await locks?.close();
    await fixture?.close();
    await google?.close();
    await vault?.close();
  });

  async function connection(tenantId: string, id: string): Promise<Connection | undefined> {
    const { connections } = await fixture.client.request(listConnections, { tenantId });
    return connections.find((found) => found.id === id);
  }

  it('a code exchange for an account whose revocation is queued meanwhile does not make it active again', async () => {
    const tenantId = randomUUID();
    const userId = randomUUID();
    const email = 'exchange-race@example.com';
    const old = await fixture.connect({ tenantId, userId, scopes: [GMAIL_READ], email });
    // The person connects the account again; its new refresh token is on its way to Vault...
    vault.holdNext('POST', /\/data\/tenants\/.+\/connections\//);
    const exchanged = fixture.connect({ tenantId, userId, scopes: [GMAIL_READ], email }).then(
      (answer) => ({ answer }),
      (error: unknown) => ({ error }),
    );
    await vault.holding(1);
    // ...when a disconnect of it arrives.
    let revokeAnswered = false;
    const revoked = fixture.client
      .request(
        revokeConnection,
        fixture.signed(revokeConnection, { tenantId, connectionId: old.connectionId }),
      )
      .finally(() => {
        revokeAnswered = true;
      });
    await until(async () => revokeAnswered || (await locks.waiting()));
    vault.release();
    const outcome = await exchanged;
    await revoked;
    await fixture.revocationsSettled(tenantId);

    // The disconnect came last and is not taken back: whatever was stored is revoked and gone.
    expect(await connection(tenantId, old.connectionId)).toMatchObject({
      status: 'revoked',
      revocation: { status: 'completed', providerAnswer: 'revoked' },
    });
    const stored =
      'answer' in outcome ? outcome.answer.refreshToken : (old.refreshToken as string | undefined);
    expect(fixture.provider.revoked).toContain(stored);
    const path = `${MOUNTS.kv}/data/tenants/${tenantId}/connections/`;
    const lastWrite = fixture.vault.requests.findLastIndex(
      (request) => request.method === 'POST' && request.path.startsWith(path),
    );
    const lastDelete = fixture.vault.requests.findLastIndex(
      (request) =>
        request.method === 'DELETE' &&
        request.path.startsWith(`${MOUNTS.kv}/metadata/tenants/${tenantId}/connections/`),
    );
    expect(lastDelete).toBeGreaterThan(lastWrite);
    await expect(
      fixture.token({ tenantId, userId, connectionId: old.connectionId, scopes: [GMAIL_READ] }),
    ).rejects.toMatchObject({ code: 'CONNECTION_REVOKED' });
  });

  it('a refresh that fails while the connection is being revoked leaves it revoking', async () => {
    const tenantId = randomUUID();
    const userId = randomUUID();
    const { connectionId, refreshToken } = await fixture.connect({
      tenantId,
      userId,
      scopes: [GMAIL_READ],
    });
    // The person removed access at Google: the refresh will be refused, slowly.
    fixture.provider.invalidate(refreshToken);
    google.holdNext('POST', /^\/token/);
    const issued = fixture.token({ tenantId, userId, connectionId, scopes: [GMAIL_READ] }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await google.holding(1);
    fixture.provider.revocationDown = true;
    try {
      await fixture.client.request(
        revokeConnection,
        fixture.signed(revokeConnection, { tenantId, connectionId }),
      );
      google.release();
      expect(await issued).toMatchObject({ code: 'CONNECTION_BROKEN' });
      expect(await connection(tenantId, connectionId)).toMatchObject({
        status: 'revoking',
        revocation: { status: 'pending' },
      });
    } finally {
      fixture.provider.revocationDown = false;
    }
    await fixture.revocationsSettled(tenantId);
    expect(await connection(tenantId, connectionId)).toMatchObject({
      status: 'revoked',
      revocation: { status: 'completed', providerAnswer: 'already_invalid' },
    });
  });
});
