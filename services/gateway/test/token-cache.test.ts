import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '@heroagent/contracts';
import { VaultProxyClient } from '../src/connections/vault-proxy.client.js';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';

const READ = 'https://www.googleapis.com/auth/gmail.readonly';
const SEND = 'https://www.googleapis.com/auth/gmail.send';

/**
 * The access tokens each gateway replica keeps: reused for the same request, and never served
 * again by any replica once a revocation, an erasure or a re-consent through one of them has
 * returned (vault-proxy's `vault.connections.changed`, sent before its answer).
 */
describe('access tokens kept by two gateway replicas', { timeout: 60_000 }, () => {
  let fixture: GatewayFixture;
  let clients: VaultProxyClient[];

  beforeAll(async () => {
    fixture = await startGatewayFixture({}, { replicas: 2 });
    clients = fixture.replicas.map((replica) => replica.app.get(VaultProxyClient));
  });
  afterAll(() => fixture?.close());

  function connection(tenantId: string = randomUUID(), userId: string = randomUUID()): Connection {
    return fixture.vault.add({
      tenantId,
      userId,
      provider: 'google',
      account: `${randomUUID()}@example.com`,
      scopes: [READ, SEND],
    });
  }

  const request = (made: Connection, scopes = [READ]) => ({
    tenantId: made.tenantId,
    userId: made.userId,
    connectionId: made.id,
    scopes,
  });

  /** How many tokens vault-proxy's double issued for a connection. */
  const issuedFor = (made: Connection) =>
    fixture.vault.issued.filter((issued) => issued.connectionId === made.id).length;

  /** Each replica holds a token for the connection (asked twice: the second is kept). */
  async function keptOnBoth(made: Connection): Promise<void> {
    for (const client of clients) {
      const first = await client.accessToken(request(made));
      expect((await client.accessToken(request(made))).token).toBe(first.token);
    }
    expect(issuedFor(made)).toBe(clients.length);
  }

  it('reuses a token only for the same connection and scopes, each replica its own', async () => {
    const made = connection();
    await keptOnBoth(made);
    await clients[0]!.accessToken(request(made, [SEND]));
    await clients[0]!.accessToken(request(made, [READ, SEND]));
    expect(issuedFor(made)).toBe(4);
    await expect(
      clients[0]!.accessToken({ ...request(made), userId: randomUUID() }),
    ).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
    await expect(
      clients[0]!.accessToken({ ...request(made), tenantId: randomUUID() }),
    ).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
  });

  it('serves no kept token on either replica once a revocation through one has returned', async () => {
    const made = connection();
    await keptOnBoth(made);
    await clients[0]!.revoke(made.tenantId, made.id);
    for (const client of clients) {
      await expect(client.accessToken(request(made))).rejects.toMatchObject({
        code: 'CONNECTION_REVOKED',
      });
    }
  });

  it("serves no kept token on either replica once a person's erasure through one has returned", async () => {
    const made = connection();
    const sibling = connection(made.tenantId, made.userId);
    await keptOnBoth(made);
    await keptOnBoth(sibling);
    await clients[1]!.erase(made.tenantId, made.userId);
    for (const client of clients) {
      for (const gone of [made, sibling]) {
        await expect(client.accessToken(request(gone))).rejects.toMatchObject({
          code: 'CONNECTION_REVOKED',
        });
      }
    }
  });

  it('asks vault-proxy again on every replica once the grant changed (re-consent)', async () => {
    const made = connection();
    await keptOnBoth(made);
    const before = await Promise.all(clients.map((client) => client.accessToken(request(made))));
    fixture.vault.announce(made, 'regranted');
    await fixture.vault.flush();
    await Promise.all(clients.map((client) => client.accessToken(request(made))));
    expect(issuedFor(made)).toBe(2 * clients.length);
    const after = await Promise.all(clients.map((client) => client.accessToken(request(made))));
    expect(after.map((kept) => kept.token)).not.toContain(before[0]!.token);
    expect(after.map((kept) => kept.token)).not.toContain(before[1]!.token);
  });
});
