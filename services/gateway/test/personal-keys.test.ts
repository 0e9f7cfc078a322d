import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { VaultProxyClient } from '../src/connections/vault-proxy.client.js';
import { ERASED, PersonalKeys, type Sealer } from '../src/privacy/personal-keys.js';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';
import { person } from './support/people.js';

/**
 * The data keys that seal a person's words, as two replicas use them: made once whoever asks
 * first, never readable again once erased (not even by a key made later for the same person), and
 * never mistaken for erased by a replica that is merely behind.
 */
describe('personal data keys across replicas', () => {
  let fixture: GatewayFixture;
  let admin: Kysely<unknown>;
  let tenantId: string;
  let userId: string;
  const keysOf = (replica: number) => fixture.replicas[replica]!.app.get(PersonalKeys);
  /** Erases as the gateway does: vault-proxy's key-encryption key, then the wrapped key here. */
  const erase = async (keys: PersonalKeys) => {
    await fixture.gateway.app.get(VaultProxyClient).erase(tenantId, userId);
    await admin.transaction().execute(async (trx) => {
      await keys.erase(trx, tenantId, userId);
    });
  };
  const cell = 'gateway.tasks.title:test';

  beforeAll(async () => {
    fixture = await startGatewayFixture({}, { replicas: 2 });
    admin = createDatabase<unknown>({
      connectionString: fixture.database.adminUrl,
      schema: 'gateway',
      applicationName: 'personal-keys-test',
    });
    const { session } = await fixture.signIn(person('keys'));
    tenantId = session.tenant!.id;
    userId = session.user.id;
  });
  afterAll(async () => {
    await admin?.destroy();
    await fixture?.close();
  });

  it('makes one key for a person when two replicas ask at once', async () => {
    const [first, second] = await Promise.all([
      keysOf(0).forPerson(tenantId, userId),
      keysOf(1).forPerson(tenantId, userId),
    ]);
    expect(second.open(cell, first.seal(cell, 'Lunch with Sam'))).toBe('Lunch with Sam');
    expect(first.open(cell, second.seal(cell, 'Tea with Ada'))).toBe('Tea with Ada');
    const { rows } = await sql<{ count: number }>`
      select count(*)::int as count from data_keys where owner_id = ${userId}`.execute(admin);
    expect(rows[0]!.count).toBe(1);
  });

  it('opens nothing a ciphertext was not sealed for: another cell, or another person', async () => {
    const sealer = await keysOf(0).forPerson(tenantId, userId);
    const sealed = sealer.seal(cell, 'Lunch with Sam');
    expect(() => sealer.open('gateway.tasks.title:other', sealed)).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }) as Error,
    );
    const stranger = await keysOf(0).forTenant(tenantId);
    expect(() => stranger.open(cell, sealed)).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }) as Error,
    );
  });

  it('reads what an erased key sealed as erased, on every replica, and seals nothing more with it', async () => {
    const before: Sealer = await keysOf(0).forPerson(tenantId, userId);
    // The other replica holds its own copy of the key.
    await keysOf(1).forPerson(tenantId, userId);
    const sealed = before.seal(cell, 'Lunch with Sam');
    await erase(keysOf(0));
    const reader = await keysOf(0).reader({ tenantId, scope: 'user', id: userId });
    expect(reader.erased).toBe(true);
    expect(reader.open(cell, sealed)).toBe(ERASED);
    expect(() => reader.seal(cell, 'more')).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }) as Error,
    );
    // The other replica held a copy: the erasure's announcement (gateway.keys.erased) makes it
    // forget it at once, not when it ages out a minute later.
    let elsewhere = await keysOf(1).reader({ tenantId, scope: 'user', id: userId });
    for (let attempt = 0; attempt < 50 && !elsewhere.erased; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      elsewhere = await keysOf(1).reader({ tenantId, scope: 'user', id: userId });
    }
    expect(elsewhere.open(cell, sealed)).toBe(ERASED);
  });

  it('makes a new version for a person who comes back, under which the old values stay erased', async () => {
    const old = (await keysOf(0).forPerson(tenantId, userId)).seal(cell, 'Before');
    await erase(keysOf(0));
    const next = await keysOf(0).forPerson(tenantId, userId);
    expect(next.version).toBeGreaterThan(1);
    expect(next.open(cell, old)).toBe(ERASED);
    expect(next.open(cell, next.seal(cell, 'After'))).toBe('After');
  });

  it('tells a replica that is behind to try again, never that a newer value is erased', async () => {
    const behind = await keysOf(1).forPerson(tenantId, userId);
    await erase(keysOf(0));
    const sealed = (await keysOf(0).forPerson(tenantId, userId)).seal(cell, 'Newer');
    expect(() => behind.open(cell, sealed)).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }) as Error,
    );
    // The refusal dropped the stale copy: the next read takes the new key.
    expect((await keysOf(1).forPerson(tenantId, userId)).open(cell, sealed)).toBe('Newer');
  });

  it('keeps no key that was being unwrapped when it was erased', async () => {
    const vault = fixture.gateway.app.get(VaultProxyClient);
    const made = await keysOf(0).forPerson(tenantId, userId);
    const sealed = made.seal(cell, 'Lunch with Sam');
    // A replica whose unwrap came back from vault-proxy just before the erasure, and is slow to
    // hand the key on.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let unwrapped!: () => void;
    const unwrapping = new Promise<void>((resolve) => (unwrapped = resolve));
    let first = true;
    const slow = new PersonalKeys(
      admin,
      {
        createDataKey: (...args) => vault.createDataKey(...args),
        openDataKey: async (...args) => {
          const key = await vault.openDataKey(...args);
          if (first) {
            first = false;
            unwrapped();
            await held;
          }
          return key;
        },
      },
      { ttlMs: 60_000, maxCached: 100 },
    );
    const reading = slow.reader({ tenantId, scope: 'user', id: userId });
    await unwrapping;
    await erase(slow);
    release();
    expect((await reading).open(cell, sealed)).toBe(ERASED);
    expect((await slow.reader({ tenantId, scope: 'user', id: userId })).open(cell, sealed)).toBe(
      ERASED,
    );
  });
});
