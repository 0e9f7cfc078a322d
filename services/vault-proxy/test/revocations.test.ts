import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acknowledgeRevocationReceipts,
  eraseSubject,
  listConnections,
  listRevocationReceipts,
  revokeConnection,
  type Connection,
} from '@heroagent/contracts';
import { createDatabase, withTenant } from '@heroagent/db';
import { RevocationsRepository } from '../src/revocations/revocations.repository.js';
import type { VaultProxyDatabase } from '../src/store-tables.js';
import {
  CALENDAR,
  GMAIL_READ,
  MOUNTS,
  startVaultProxyFixture,
  type VaultProxyFixture,
} from './fixture.js';

/**
 * Revocation that finishes: the sealed refresh token is kept until the provider confirms (or says
 * the token is already dead), retried with backoff meanwhile, then deleted, with a receipt.
 */
describe('vault-proxy: durable revocation and deletion receipts', { timeout: 60_000 }, () => {
  let fixture: VaultProxyFixture;
  const tenantId = randomUUID();
  const ada = randomUUID();

  beforeAll(async () => {
    fixture = await startVaultProxyFixture();
  });
  afterAll(() => fixture?.close());

  async function connection(id: string): Promise<Connection | undefined> {
    const { connections } = await fixture.client.request(listConnections, { tenantId });
    return connections.find((found) => found.id === id);
  }

  async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('gave up waiting');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const stillStored = (connectionId: string) => {
    const path = `${MOUNTS.kv}/metadata/tenants/${tenantId}/connections/${connectionId}`;
    return !fixture.vault.requests.some(
      (request) => request.method === 'DELETE' && request.path === path,
    );
  };

  it('keeps the sealed token and retries with backoff while the provider is down, then finishes with a receipt', async () => {
    const { connectionId, refreshToken } = await fixture.connect({
      tenantId,
      userId: ada,
      scopes: [GMAIL_READ],
    });
    fixture.provider.down = true;
    let pending;
    try {
      const answer = await fixture.client.request(
        revokeConnection,
        fixture.signed(revokeConnection, { tenantId, connectionId }),
      );
      expect(answer.connection.status).toBe('revoking');
      // Several attempts, each refused, spaced by the (200 ms base) backoff.
      pending = await until(async () => {
        const found = await connection(connectionId);
        return (found?.revocation?.attempts ?? 0) >= 3 ? found : undefined;
      });
      expect(pending).toMatchObject({
        status: 'revoking',
        revocation: {
          id: answer.revocation.id,
          status: 'pending',
          lastError: 'the revocation endpoint answered 503 temporarily_unavailable',
        },
      });
      expect(Date.parse(pending.revocation!.nextAttemptAt!)).toBeGreaterThan(Date.now() - 1000);
      expect(stillStored(connectionId)).toBe(true);
      expect(fixture.provider.revoked).not.toContain(refreshToken);
      // Asking again answers the same revocation.
      const again = await fixture.client.request(
        revokeConnection,
        fixture.signed(revokeConnection, { tenantId, connectionId }),
      );
      expect(again.revocation.id).toBe(answer.revocation.id);
    } finally {
      fixture.provider.down = false;
    }
    const done = await until(async () => {
      const found = await connection(connectionId);
      return found?.status === 'revoked' ? found : undefined;
    });
    expect(done.revocation).toMatchObject({
      status: 'completed',
      reason: 'disconnect',
      providerStatus: 200,
      providerAnswer: 'revoked',
      scopes: [GMAIL_READ],
    });
    expect(done.revocation!.attempts).toBeGreaterThan(pending.revocation!.attempts);
    expect(done.revocation!.lastError).toBeUndefined();
    expect(fixture.provider.revoked).toContain(refreshToken);
    expect(stillStored(connectionId)).toBe(false);
    // Revoking it again answers the receipt, and asks the provider nothing.
    const calls = fixture.provider.revokeCalls;
    const again = await fixture.client.request(
      revokeConnection,
      fixture.signed(revokeConnection, { tenantId, connectionId }),
    );
    expect(again.revocation).toEqual(done.revocation);
    expect(again.connection.status).toBe('revoked');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fixture.provider.revokeCalls).toBe(calls);
  });

  it('refuses to connect an account again while its revocation is pending, and reconnects it once done', async () => {
    const email = 'again@example.com';
    const { connectionId } = await fixture.connect({
      tenantId,
      userId: ada,
      scopes: [GMAIL_READ],
      email,
    });
    fixture.provider.revocationDown = true;
    try {
      await fixture.client.request(
        revokeConnection,
        fixture.signed(revokeConnection, { tenantId, connectionId }),
      );
      // Revoking the old token at Google would end a new grant too: refused until it is done.
      const before = fixture.vault.requests.filter((request) => request.method === 'POST').length;
      await expect(
        fixture.connect({ tenantId, userId: ada, scopes: [GMAIL_READ], email }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(fixture.vault.requests.filter((request) => request.method === 'POST').length).toBe(
        before,
      );
      expect((await connection(connectionId))?.status).toBe('revoking');
    } finally {
      fixture.provider.revocationDown = false;
    }
    await fixture.revocationsSettled(tenantId);
    const again = await fixture.connect({ tenantId, userId: ada, scopes: [GMAIL_READ], email });
    expect(again.connectionId).toBe(connectionId);
    expect(await connection(connectionId)).toMatchObject({ status: 'active' });
    expect((await connection(connectionId))?.revocation).toBeUndefined();
  });

  it("finishes when the provider says the token is already invalid (Google's 400 invalid_token)", async () => {
    const { connectionId, refreshToken } = await fixture.connect({
      tenantId,
      userId: ada,
      scopes: [CALENDAR],
    });
    fixture.provider.invalidate(refreshToken);
    await fixture.client.request(
      revokeConnection,
      fixture.signed(revokeConnection, { tenantId, connectionId }),
    );
    await fixture.revocationsSettled(tenantId);
    expect((await connection(connectionId))?.revocation).toMatchObject({
      status: 'completed',
      providerStatus: 400,
      providerAnswer: 'already_invalid',
    });
    expect(stillStored(connectionId)).toBe(false);
  });

  it('erases a person while the provider is down: their connection waits (its address gone), then goes; the receipt says why', async () => {
    const bob = randomUUID();
    const { connectionId } = await fixture.connect({ tenantId, userId: bob, scopes: [GMAIL_READ] });
    fixture.provider.down = true;
    try {
      expect(
        await fixture.client.request(
          eraseSubject,
          fixture.signed(eraseSubject, { tenantId, userId: bob }),
        ),
      ).toMatchObject({ revocationsQueued: 1 });
      await until(
        async () => ((await connection(connectionId))?.revocation?.attempts ?? 0) >= 2 || undefined,
      );
      expect((await connection(connectionId))?.status).toBe('revoking');
      expect(stillStored(connectionId)).toBe(true);
      // Only the sealed token waits for the provider: the account's address is gone already.
      expect((await connection(connectionId))?.account).toBe('[erased]');
    } finally {
      fixture.provider.down = false;
    }
    await fixture.revocationsSettled(tenantId);
    expect(await connection(connectionId)).toBeUndefined();
    expect(stillStored(connectionId)).toBe(false);
    const { receipts } = await fixture.client.request(listRevocationReceipts, {});
    expect(receipts.find((receipt) => receipt.connectionId === connectionId)).toMatchObject({
      userId: bob,
      reason: 'erase_person',
      status: 'completed',
      providerAnswer: 'revoked',
    });
  });

  it('lists receipts until the gateway acknowledges them; an acknowledgement is signed and used once', async () => {
    const { receipts } = await fixture.client.request(listRevocationReceipts, {});
    expect(receipts.length).toBeGreaterThanOrEqual(3);
    expect(receipts.every((receipt) => receipt.status === 'completed')).toBe(true);
    expect(JSON.stringify(receipts)).not.toContain('@example.com');
    const ack = fixture.signed(acknowledgeRevocationReceipts, {
      receiptIds: receipts.map((receipt) => receipt.id),
    });
    expect(await fixture.client.request(acknowledgeRevocationReceipts, ack)).toEqual({
      acknowledged: receipts.length,
    });
    await expect(fixture.client.request(acknowledgeRevocationReceipts, ack)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await fixture.client.request(listRevocationReceipts, {})).receipts).toEqual([]);
    // Acknowledging again is harmless.
    expect(
      await fixture.client.request(
        acknowledgeRevocationReceipts,
        fixture.signed(acknowledgeRevocationReceipts, { receiptIds: [receipts[0]!.id] }),
      ),
    ).toEqual({ acknowledged: 0 });
  });
});

describe('vault-proxy: a revocation claimed by a replica that died', { timeout: 60_000 }, () => {
  let fixture: VaultProxyFixture;
  const tenantId = randomUUID();

  beforeAll(async () => {
    // This replica looks only when nudged (a revoke), never by its poll (every ten minutes).
    fixture = await startVaultProxyFixture({ REVOCATION_POLL_MS: '600000' });
  });
  afterAll(() => fixture?.close());

  it('is taken over by another replica once its lease ends, and finished', async () => {
    const db = createDatabase<VaultProxyDatabase>({
      connectionString: fixture.runtimeUrl,
      schema: 'vault_proxy',
      applicationName: 'vault-proxy-dead-replica',
      maxConnections: 2,
    });
    const dead = new RevocationsRepository(db);
    const state = async () =>
      (await fixture.client.request(listConnections, { tenantId })).connections[0]?.revocation;
    try {
      await fixture.connect({ tenantId, userId: randomUUID(), scopes: [GMAIL_READ] });
      const connectionId = (await fixture.client.request(listConnections, { tenantId }))
        .connections[0]!.id;
      fixture.provider.revocationDown = true;
      const { revocation } = await fixture.client.request(
        revokeConnection,
        fixture.signed(revokeConnection, { tenantId, connectionId }),
      );
      // The attempt the revoke nudged fails; the next would wait for a poll that does not come.
      const deadline = Date.now() + 10_000;
      while ((await state())?.lastError === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await state())?.lastError).toBeDefined();
      fixture.provider.revocationDown = false;
      await db
        .updateTable('revocation_work')
        .set({ due_at: new Date(0) })
        .where('revocation_id', '=', revocation.id)
        .execute();
      await withTenant(db, tenantId, (trx) =>
        trx
          .updateTable('revocations')
          .set({ next_attempt_at: new Date(0) })
          .where('id', '=', revocation.id)
          .execute(),
      );
      // Another replica claims it for 300 ms, then dies before it asks the provider.
      const due = await dead.nextDue(300);
      expect(due?.revocationId).toBe(revocation.id);
      expect((await dead.claim(due!, 300))?.id).toBe(revocation.id);
      expect(await dead.nextDue(300)).toBeUndefined();
      expect(await dead.claim(due!, 300)).toBeUndefined();
      // A replica that looks after the lease takes it over, and finishes it.
      await new Promise((resolve) => setTimeout(resolve, 400));
      await fixture.startReplica({ REVOCATION_POLL_MS: '100' });
      await fixture.revocationsSettled(tenantId);
      expect(await state()).toMatchObject({
        id: revocation.id,
        status: 'completed',
        providerAnswer: 'revoked',
        attempts: 3,
      });
    } finally {
      fixture.provider.revocationDown = false;
      await db.destroy();
    }
  });
});
