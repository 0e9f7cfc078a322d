import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEALED_REFRESH_TOKEN_PURPOSE,
  SEALED_TOKEN_PURPOSE,
  issueToken,
  listConnections,
  revokeConnection,
  storeConnection,
  type ContractError,
} from '@heroagent/contracts';
import { open, seal } from '@heroagent/crypto';
import { createDatabase, sql } from '@heroagent/db';
import type { RunningService } from '@heroagent/service';
import { RevokeConnection } from '../src/connections/revoke-connection.js';
import { StoreConnection } from '../src/connections/store-connection.js';
import { IssueToken } from '../src/tokens/issue-token.js';
import { RefreshLockTimeout, RefreshLocks } from '../src/tokens/refresh-locks.js';
import { GMAIL_READ, startVaultProxyFixture, type VaultProxyFixture } from './fixture.js';

/**
 * Two vault-proxy replicas on one Postgres and one Vault: a connection's refresh token is used by
 * one replica at a time, and what one replica learns about a connection (revoked, re-consented)
 * the other honours.
 */
describe('two vault-proxy replicas', { timeout: 60_000 }, () => {
  let fixture: VaultProxyFixture;
  let replicas: RunningService[];
  const tenantId = randomUUID();
  const ada = randomUUID();

  beforeAll(async () => {
    fixture = await startVaultProxyFixture();
    replicas = [fixture.running, await fixture.startReplica()];
  });
  afterAll(() => fixture?.close());

  /** Issues and opens a token on one replica, as the gateway's request would be served there. */
  async function tokenFrom(replica: RunningService, connectionId: string): Promise<string> {
    const answer = await replica.app
      .get(IssueToken)
      .execute(
        fixture.signed(issueToken, { tenantId, userId: ada, connectionId, scopes: [GMAIL_READ] }),
      );
    return open(answer.token, fixture.gatewaySealing, {
      sender: 'vault-proxy',
      recipient: 'gateway',
      purpose: SEALED_TOKEN_PURPOSE,
    }).toString('utf8');
  }

  /** Stores (or re-consents) a connection on one replica, as the gateway's OAuth callback would. */
  async function storeOn(replica: RunningService, connectionId: string, refreshToken: string) {
    await replica.app.get(StoreConnection).execute(
      fixture.signed(storeConnection, {
        tenantId,
        userId: ada,
        connectionId,
        provider: 'google',
        account: 'ada@example.com',
        scopes: [GMAIL_READ],
        refreshToken: seal(Buffer.from(refreshToken), fixture.vaultProxySealing.publicKey, {
          sender: 'gateway',
          recipient: 'vault-proxy',
          purpose: SEALED_REFRESH_TOKEN_PURPOSE,
        }),
      }),
    );
  }

  it('refreshes a rotating refresh token one replica at a time, each with the token the last one stored', async () => {
    const { provider } = fixture;
    const connectionId = randomUUID();
    await storeOn(replicas[0]!, connectionId, provider.grant([GMAIL_READ], { rotate: true }));
    provider.latencyMs = 150;
    const before = { calls: provider.refreshCalls, invalid: provider.invalidGrants };
    provider.maxRefreshesInFlight = 0;
    try {
      // Ten requests at once, five on each replica: neither has a token cached yet.
      const tokens = await Promise.all(
        Array.from({ length: 10 }, (_, index) => tokenFrom(replicas[index % 2]!, connectionId)),
      );
      expect(tokens.every((token) => token.startsWith('ya29.'))).toBe(true);
    } finally {
      provider.latencyMs = 0;
    }
    expect(provider.maxRefreshesInFlight).toBe(1);
    expect(provider.invalidGrants - before.invalid).toBe(0);
    // One refresh per replica (each keeps its access tokens in its own memory), never more.
    expect(provider.refreshCalls - before.calls).toBe(2);
    // Still usable: the rotated token each replica stored is the one the provider honours.
    const { connections } = await fixture.client.request(listConnections, {
      tenantId,
      userId: ada,
    });
    expect(connections.find((connection) => connection.id === connectionId)?.status).toBe('active');
  });

  it('serves no token cached on one replica once the other revoked the connection', async () => {
    const connectionId = randomUUID();
    await storeOn(replicas[0]!, connectionId, fixture.provider.grant([GMAIL_READ]));
    await tokenFrom(replicas[1]!, connectionId);
    await replicas[0]!.app
      .get(RevokeConnection)
      .execute(fixture.signed(revokeConnection, { tenantId, connectionId }));
    await expect(tokenFrom(replicas[1]!, connectionId)).rejects.toMatchObject({
      code: 'CONNECTION_REVOKED',
    } satisfies Partial<ContractError>);
  });

  it('serves no token of the old grant on one replica once the person re-consented through the other', async () => {
    const connectionId = randomUUID();
    await storeOn(replicas[0]!, connectionId, fixture.provider.grant([GMAIL_READ]));
    const old = await tokenFrom(replicas[1]!, connectionId);
    await storeOn(replicas[0]!, connectionId, fixture.provider.grant([GMAIL_READ]));
    const calls = fixture.provider.refreshCalls;
    const fresh = await tokenFrom(replicas[1]!, connectionId);
    expect(fresh).not.toBe(old);
    expect(fixture.provider.refreshCalls).toBe(calls + 1);
  });

  it('gives up waiting for a refresh lock held elsewhere with a clear error, and takes it once free', async () => {
    const connect = () =>
      createDatabase<unknown>({
        connectionString: fixture.database.adminUrl,
        applicationName: 'vault-proxy-replicas-test',
        maxConnections: 2,
      });
    const holder = connect();
    const waiter = connect();
    const connectionId = randomUUID();
    const key = `vault-proxy.refresh:${connectionId}`;
    try {
      let ran = false;
      await holder.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
        await expect(
          new RefreshLocks(waiter).holding(connectionId, 200, () => {
            ran = true;
            return Promise.resolve();
          }),
        ).rejects.toBeInstanceOf(RefreshLockTimeout);
      });
      expect(ran).toBe(false);
      await new RefreshLocks(waiter).holding(connectionId, 200, () => {
        ran = true;
        return Promise.resolve();
      });
      expect(ran).toBe(true);
    } finally {
      await holder.destroy();
      await waiter.destroy();
    }
  });
});
