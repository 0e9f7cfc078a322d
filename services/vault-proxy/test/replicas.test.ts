import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SEALED_TOKEN_PURPOSE,
  exchangeCode,
  issueToken,
  listConnections,
  revokeConnection,
  type ContractError,
} from '@heroagent/contracts';
import { open } from '@heroagent/crypto';
import { createDatabase, sql } from '@heroagent/db';
import type { RunningService } from '@heroagent/service';
import { RevokeConnection } from '../src/connections/revoke-connection.js';
import { ExchangeCode } from '../src/oauth/exchange-code.js';
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

  /** Connects (or re-consents) an account through one replica, as the gateway's callback would. */
  async function connectOn(replica: RunningService, email: string, refreshToken: string) {
    const answer = await replica.app.get(ExchangeCode).execute(
      fixture.signed(
        exchangeCode,
        fixture.authorized({
          intent: { purpose: 'connect', tenantId, userId: ada, requestedScopes: [GMAIL_READ] },
          scopes: [GMAIL_READ],
          email,
          refreshToken,
        }),
      ),
    );
    return answer.connection!.connection.id;
  }

  it('refreshes a rotating refresh token one replica at a time, each with the token the last one stored', async () => {
    const { provider } = fixture;
    const connectionId = await connectOn(
      replicas[0]!,
      'rotating@example.com',
      provider.grant([GMAIL_READ], { rotate: true }),
    );
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

  it('serves no token cached on one replica from the moment the other queued its revocation', async () => {
    const connectionId = await connectOn(
      replicas[0]!,
      'revoked@example.com',
      fixture.provider.grant([GMAIL_READ]),
    );
    await tokenFrom(replicas[1]!, connectionId);
    // The provider is down: the revocation stays pending, the connection `revoking`.
    fixture.provider.down = true;
    try {
      await replicas[0]!.app
        .get(RevokeConnection)
        .execute(fixture.signed(revokeConnection, { tenantId, connectionId }));
      for (const replica of replicas) {
        await expect(tokenFrom(replica, connectionId)).rejects.toMatchObject({
          code: 'CONNECTION_REVOKED',
        } satisfies Partial<ContractError>);
      }
    } finally {
      fixture.provider.down = false;
    }
    await fixture.revocationsSettled(tenantId);
    await expect(tokenFrom(replicas[1]!, connectionId)).rejects.toMatchObject({
      code: 'CONNECTION_REVOKED',
    } satisfies Partial<ContractError>);
  });

  it('asks the provider once per revocation however many replicas work through the queue', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 6; index += 1) {
      ids.push(
        await connectOn(
          replicas[index % 2]!,
          `queued${index}@example.com`,
          fixture.provider.grant([GMAIL_READ]),
        ),
      );
    }
    const before = fixture.provider.revokeCalls;
    await Promise.all(
      ids.map((connectionId, index) =>
        replicas[index % 2]!.app.get(RevokeConnection).execute(
          fixture.signed(revokeConnection, { tenantId, connectionId }),
        ),
      ),
    );
    await fixture.revocationsSettled(tenantId);
    expect(fixture.provider.revokeCalls - before).toBe(6);
  });

  it('serves no token of the old grant on one replica once the person re-consented through the other', async () => {
    const connectionId = await connectOn(
      replicas[0]!,
      'reconsent@example.com',
      fixture.provider.grant([GMAIL_READ]),
    );
    const old = await tokenFrom(replicas[1]!, connectionId);
    expect(
      await connectOn(replicas[0]!, 'reconsent@example.com', fixture.provider.grant([GMAIL_READ])),
    ).toBe(connectionId);
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
