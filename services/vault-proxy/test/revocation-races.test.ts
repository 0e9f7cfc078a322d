import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConnections, revokeConnection, type Connection } from '@heroagent/contracts';
import { createDatabase, withTenant, type Kysely } from '@heroagent/db';
import { RevocationsRepository } from '../src/revocations/revocations.repository.js';
import type { VaultProxyDatabase } from '../src/store-tables.js';
import { HoldingProxy } from './doubles/holding-proxy.js';
import { GMAIL_READ, startVaultProxyFixture, type VaultProxyFixture } from './fixture.js';
import { LockWatch, until } from './races.js';

const LEASE_MS = 300;
const REVOKE = /^\/revoke/;

/**
 * Revocation workers on several replicas, against a provider that is slow: one revocation is
 * worked by one replica at a time, completed once, and never reaches a later grant of the account.
 */
describe('vault-proxy: revocation workers racing across replicas', { timeout: 60_000 }, () => {
  let fixture: VaultProxyFixture;
  let google: HoldingProxy;
  let db: Kysely<VaultProxyDatabase>;
  let locks: LockWatch;

  beforeAll(async () => {
    google = await HoldingProxy.start();
    // The first replica looks only when nudged (a revoke), never by its poll.
    fixture = await startVaultProxyFixture(
      { REVOCATION_POLL_MS: '600000', REVOCATION_LEASE_MS: String(LEASE_MS) },
      { provider: google },
    );
    db = createDatabase<VaultProxyDatabase>({
      connectionString: fixture.runtimeUrl,
      schema: 'vault_proxy',
      applicationName: 'vault-proxy-race-test',
      maxConnections: 2,
    });
    locks = new LockWatch(fixture.database.adminUrl);
  });
  afterAll(async () => {
    await db?.destroy();
    await locks?.close();
    await fixture?.close();
    await google?.close();
  });

  async function connections(tenantId: string): Promise<Connection[]> {
    return (await fixture.client.request(listConnections, { tenantId })).connections;
  }

  /**
   * Revokes these connections while the provider's revocation endpoint is down (each attempt
   * fails), then makes them due again, in this order, with the endpoint back.
   */
  async function queuedAndDue(tenantId: string, connectionIds: string[]): Promise<string[]> {
    fixture.provider.revocationDown = true;
    const ids: string[] = [];
    try {
      for (const connectionId of connectionIds) {
        const { revocation } = await fixture.client.request(
          revokeConnection,
          fixture.signed(revokeConnection, { tenantId, connectionId }),
        );
        ids.push(revocation.id);
      }
      await until(async () =>
        (await connections(tenantId)).every(
          (found) => !connectionIds.includes(found.id) || found.revocation?.lastError !== undefined,
        ),
      );
    } finally {
      fixture.provider.revocationDown = false;
    }
    for (const [index, id] of ids.entries()) {
      const due = new Date(index);
      await db
        .updateTable('revocation_work')
        .set({ due_at: due })
        .where('revocation_id', '=', id)
        .execute();
      await withTenant(db, tenantId, (trx) =>
        trx.updateTable('revocations').set({ next_attempt_at: due }).where('id', '=', id).execute(),
      );
    }
    return ids;
  }

  const completions = (revocationId: string) =>
    fixture.logs.filter(
      (line) =>
        line.includes(revocationId) &&
        line.includes('connection revoked at the provider; its refresh token is deleted'),
    ).length;

  it('a revocation whose lease ran out while the provider was slow is not worked, nor completed, again', async () => {
    const tenantId = randomUUID();
    const { connectionId, refreshToken } = await fixture.connect({
      tenantId,
      userId: randomUUID(),
      scopes: [GMAIL_READ],
    });
    const [revocationId] = await queuedAndDue(tenantId, [connectionId]);
    const calls = fixture.provider.revokeCalls;
    google.holdNext('POST', REVOKE);
    const first = await fixture.startReplica({ REVOCATION_POLL_MS: '100' });
    await google.holding(1);
    // The provider is slower than the lease: another replica looks, and finds it due again.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
    const second = await fixture.startReplica({ REVOCATION_POLL_MS: '100' });
    await until(() => locks.waiting());
    google.release();
    await until(async () => (await connections(tenantId))[0]?.status === 'revoked');
    await first.close();
    await second.close();

    expect(fixture.provider.revokeCalls).toBe(calls + 1);
    expect(fixture.provider.revoked).toContain(refreshToken);
    expect((await connections(tenantId))[0]?.revocation).toMatchObject({
      id: revocationId,
      status: 'completed',
      providerStatus: 200,
      providerAnswer: 'revoked',
      attempts: 2,
    });
    expect(completions(revocationId!)).toBe(1);
  });

  it("a revocation claimed with others in a batch never revokes, nor deletes, the account's later grant", async () => {
    const tenantId = randomUUID();
    const userId = randomUUID();
    const slow = await fixture.connect({ tenantId, userId, scopes: [GMAIL_READ] });
    const email = 'reconnects@example.com';
    const later = await fixture.connect({ tenantId, userId, scopes: [GMAIL_READ], email });
    const [, laterRevocation] = await queuedAndDue(tenantId, [
      slow.connectionId,
      later.connectionId,
    ]);
    google.holdNext('POST', REVOKE);
    const first = await fixture.startReplica({ REVOCATION_POLL_MS: '100' });
    await google.holding(1);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
    // Another replica finishes the second revocation (it gives up on the first's lock quickly).
    const second = await fixture.startReplica({
      REVOCATION_POLL_MS: '100',
      OAUTH_TIMEOUT_MS: '100',
    });
    const byId = async (id: string) => (await connections(tenantId)).find((c) => c.id === id);
    await until(async () => (await byId(later.connectionId))?.status === 'revoked');
    // The person connects the account again: a new grant, a new refresh token.
    const again = await fixture.connect({ tenantId, userId, scopes: [GMAIL_READ], email });
    expect(again.connectionId).toBe(later.connectionId);
    await second.close();
    google.release();
    await until(async () => (await byId(slow.connectionId))?.status === 'revoked');
    await first.close();

    expect(fixture.provider.revoked).toContain(later.refreshToken);
    expect(fixture.provider.revoked).not.toContain(again.refreshToken);
    expect(await byId(later.connectionId)).toMatchObject({ status: 'active' });
    const token = await fixture.token({
      tenantId,
      userId,
      connectionId: later.connectionId,
      scopes: [GMAIL_READ],
    });
    expect(fixture.provider.issuedAccessTokens).toContain(token.accessToken);
    expect(completions(laterRevocation!)).toBe(1);
  });

  it('an attempt that lost its claim neither completes, nor retries, the revocation, and a later grant is not its grant', async () => {
    const tenantId = randomUUID();
    const userId = randomUUID();
    const email = 'cut-off@example.com';
    const { connectionId } = await fixture.connect({
      tenantId,
      userId,
      scopes: [GMAIL_READ],
      email,
    });
    const [revocationId] = await queuedAndDue(tenantId, [connectionId]);
    // Two replicas' repositories: the first is cut off from the database past its lease.
    const cutOff = new RevocationsRepository(db);
    const other = new RevocationsRepository(db);
    const due = (await cutOff.nextDue(50))!;
    const stale = (await cutOff.claim(due, 50))!;
    expect(await other.claim(due, 50)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const current = (await other.claim(due, 60_000))!;
    expect(current.claim).not.toBe(stale.claim);
    const receipt = { providerStatus: 200, providerAnswer: 'revoked' } as const;
    expect(await other.complete(current, receipt)).toMatchObject({ id: revocationId, attempts: 3 });
    expect(await other.complete(current, receipt)).toBeUndefined();
    // The person connects the account again; the cut-off attempt comes back.
    await fixture.connect({ tenantId, userId, scopes: [GMAIL_READ], email });
    const [connected] = await withTenant(db, tenantId, (trx) =>
      trx
        .selectFrom('connections')
        .select(['status', 'secret_id'])
        .where('id', '=', connectionId)
        .execute(),
    );
    expect(connected).toMatchObject({ status: 'active' });
    expect(connected!.secret_id).not.toBe(stale.secret_id);
    expect(
      await cutOff.complete(stale, { providerStatus: 400, providerAnswer: 'already_invalid' }),
    ).toBeUndefined();
    await cutOff.retryLater(stale, 1000, 'late');
    expect((await connections(tenantId))[0]).toMatchObject({ status: 'active' });
    const [revocation] = await withTenant(db, tenantId, (trx) =>
      trx.selectFrom('revocations').selectAll().where('id', '=', revocationId!).execute(),
    );
    expect(revocation).toMatchObject({
      provider_answer: 'revoked',
      provider_status: 200,
      last_error: null,
      attempts: 3,
    });
    expect(await cutOff.nextDue(50)).toBeUndefined();
  });
});
