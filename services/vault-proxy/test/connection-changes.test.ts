import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  eraseSubject,
  issueToken,
  revokeConnection,
  vaultConnectionsChanged,
  type EventPayload,
} from '@heroagent/contracts';
import { createDatabase, sql } from '@heroagent/db';
import { GMAIL_READ, startVaultProxyFixture, type VaultProxyFixture } from './fixture.js';

type Change = EventPayload<typeof vaultConnectionsChanged>;

/**
 * What vault-proxy tells the gateway's caches (`vault.connections.changed`, before it answers the
 * call that made the change), and which replayed grants it answers: only a token request within
 * its skew window, whose answer is sealed to the gateway; every state-changing request once.
 */
describe('vault-proxy: connection changes and replays', { timeout: 60_000 }, () => {
  let fixture: VaultProxyFixture;
  const tenantId = randomUUID();
  const ada = randomUUID();
  const changes: Change[] = [];
  let stopHearing: () => void;

  beforeAll(async () => {
    fixture = await startVaultProxyFixture();
    stopHearing = await fixture.client.subscribe(vaultConnectionsChanged, (change) => {
      changes.push(change);
    });
  });
  afterAll(async () => {
    stopHearing?.();
    await fixture?.close();
  });

  /** Whether `requestId` was recorded against replay. */
  async function recorded(requestId: string): Promise<boolean> {
    const db = createDatabase({
      connectionString: fixture.runtimeUrl,
      schema: 'vault_proxy',
      applicationName: 'vault-proxy-replay-check',
      maxConnections: 1,
    });
    try {
      const { rows } = await sql<{
        found: boolean;
      }>`select exists (select 1 from seen_requests where request_id = ${requestId}) as found`.execute(
        db,
      );
      return rows[0]!.found;
    } finally {
      await db.destroy();
    }
  }

  it('answers a replayed token request within its skew window with another box sealed to the gateway, recording nothing', async () => {
    const { connectionId } = await fixture.connect({ tenantId, userId: ada, scopes: [GMAIL_READ] });
    const genuine = fixture.signed(issueToken, {
      tenantId,
      userId: ada,
      connectionId,
      scopes: [GMAIL_READ],
    });
    const first = await fixture.client.request(issueToken, genuine);
    const again = await fixture.client.request(issueToken, genuine);
    // Nothing a replayer can open: a fresh box each time, for the gateway's key alone.
    expect(again.token.epk).not.toBe(first.token.epk);
    const opened = await fixture.token({
      tenantId,
      userId: ada,
      connectionId,
      scopes: [GMAIL_READ],
    });
    expect(JSON.stringify([first, again])).not.toContain(opened.accessToken);
    expect(await recorded(genuine.grant.requestId)).toBe(false);
  });

  it('refuses a replayed revocation and a replayed erasure (FORBIDDEN), changing nothing more', async () => {
    const { connectionId } = await fixture.connect({ tenantId, userId: ada, scopes: [GMAIL_READ] });
    const revoke = fixture.signed(revokeConnection, { tenantId, connectionId });
    await fixture.client.request(revokeConnection, revoke);
    expect(await recorded(revoke.grant.requestId)).toBe(true);
    const heard = changes.length;
    await expect(fixture.client.request(revokeConnection, revoke)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const erase = fixture.signed(eraseSubject, { tenantId: randomUUID() });
    await fixture.client.request(eraseSubject, erase);
    await expect(fixture.client.request(eraseSubject, erase)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await fixture.client.ping();
    expect(changes.length).toBe(heard);
  });

  it('announces a revocation to the NATS server before it answers the revocation', async () => {
    const { connectionId } = await fixture.connect({ tenantId, userId: ada, scopes: [GMAIL_READ] });
    const from = fixture.traffic.length;
    await fixture.client.request(
      revokeConnection,
      fixture.signed(revokeConnection, { tenantId, connectionId }),
    );
    // The sniffer hears both on one connection, in the order the server routed them.
    const seen = () => fixture.traffic.slice(from);
    const event = () => seen().findIndex((line) => line.startsWith('vault.connections.changed '));
    const answer = () =>
      seen().findIndex(
        (line) => line.startsWith('_INBOX.gateway.') && line.includes('"revocation"'),
      );
    await vi.waitFor(() => expect(answer()).toBeGreaterThanOrEqual(0));
    expect(event()).toBeGreaterThanOrEqual(0);
    expect(event()).toBeLessThan(answer());
    expect(changes).toContainEqual({ tenantId, connectionId, change: 'revoked' });
  });

  it('announces a re-consent, a refresh token the provider refuses, and an erasure of each connection', async () => {
    const refreshToken = fixture.provider.grant([GMAIL_READ]);
    const email = 'grace@example.com';
    const { connectionId } = await fixture.connect({
      tenantId,
      userId: ada,
      scopes: [GMAIL_READ],
      email,
      refreshToken,
    });
    expect(changes.filter((change) => change.connectionId === connectionId)).toEqual([]);
    await fixture.connect({ tenantId, userId: ada, scopes: [GMAIL_READ], email, refreshToken });
    await fixture.client.ping();
    expect(changes).toContainEqual({ tenantId, connectionId, change: 'regranted' });

    fixture.provider.invalidate(refreshToken);
    await expect(
      fixture.token({ tenantId, userId: ada, connectionId, scopes: [GMAIL_READ] }),
    ).rejects.toMatchObject({ code: 'CONNECTION_BROKEN' });
    await fixture.client.ping();
    expect(changes).toContainEqual({ tenantId, connectionId, change: 'broken' });

    const doomedTenant = randomUUID();
    const doomed = [
      (await fixture.connect({ tenantId: doomedTenant, userId: ada, scopes: [GMAIL_READ] }))
        .connectionId,
      (await fixture.connect({ tenantId: doomedTenant, userId: ada, scopes: [GMAIL_READ] }))
        .connectionId,
    ];
    await fixture.client.request(
      eraseSubject,
      fixture.signed(eraseSubject, { tenantId: doomedTenant }),
    );
    await fixture.client.ping();
    for (const id of doomed)
      expect(changes).toContainEqual({
        tenantId: doomedTenant,
        connectionId: id,
        change: 'erased',
      });
  });
});
