import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SecretsError,
  type KeyOwner,
  type SecretsBackend,
} from '../src/secrets/secrets-backend.js';

/**
 * One behaviour for every secrets backend: the Vault adapter against the Vault double, against a
 * real Vault when VAULT_ADDR is set, and the embedded store.
 */
export function secretsBackendContract(
  name: string,
  setup: () => Promise<{ backend: SecretsBackend; teardown: () => Promise<void> }>,
): void {
  describe(`secrets backend contract: ${name}`, () => {
    let backend: SecretsBackend;
    let teardown: () => Promise<void>;
    const tenant = randomUUID();
    const otherTenant = randomUUID();
    const owner = (
      scope: KeyOwner['scope'] = 'tenant',
      tenantId = tenant,
      id = scope === 'tenant' ? tenantId : randomUUID(),
    ): KeyOwner => ({
      tenantId,
      scope,
      id,
    });

    beforeAll(async () => {
      ({ backend, teardown } = await setup());
    });
    afterAll(() => teardown());

    it('reports itself available', async () => {
      expect(await backend.health()).toMatchObject({ available: true, sealed: false });
    });

    it('keeps refresh tokens by version and returns the newest', async () => {
      const ref = { tenantId: tenant, connectionId: randomUUID() };
      expect(await backend.getRefreshToken(ref)).toBeUndefined();
      const first = await backend.putRefreshToken(ref, '1//first-refresh-token');
      const second = await backend.putRefreshToken(ref, '1//rotated-refresh-token');
      expect(second).toBe(first + 1);
      expect(await backend.getRefreshToken(ref)).toBe('1//rotated-refresh-token');
    });

    it('deletes every version of one connection, and every secret of a tenant, and nothing else', async () => {
      const one = { tenantId: tenant, connectionId: randomUUID() };
      const two = { tenantId: tenant, connectionId: randomUUID() };
      const foreign = { tenantId: otherTenant, connectionId: randomUUID() };
      for (const ref of [one, two, foreign])
        await backend.putRefreshToken(ref, `1//token-of-${ref.connectionId}`);
      await backend.putRefreshToken(one, '1//second-version');
      await backend.deleteRefreshToken(one);
      expect(await backend.getRefreshToken(one)).toBeUndefined();
      expect(await backend.getRefreshToken(two)).toBe(`1//token-of-${two.connectionId}`);
      expect(await backend.deleteTenantSecrets(tenant)).toBeGreaterThanOrEqual(1);
      expect(await backend.getRefreshToken(two)).toBeUndefined();
      expect(await backend.getRefreshToken(foreign)).toBe(`1//token-of-${foreign.connectionId}`);
    });

    it('creates data keys that only their owner’s key opens', async () => {
      const alice = owner('user');
      const key = await backend.createDataKey(alice);
      expect(key.plaintext).toHaveLength(32);
      expect(key.wrapped).not.toContain(key.plaintext.toString('base64'));
      expect(await backend.openDataKey(alice, key.wrapped)).toEqual(key.plaintext);
      const bob = owner('user');
      await backend.createDataKey(bob);
      await expect(backend.openDataKey(bob, key.wrapped)).rejects.toBeInstanceOf(SecretsError);
    });

    it('rotates a key: old data keys still open, new ones use the new version, rewrap moves old ones', async () => {
      const subject = owner('tenant');
      const before = await backend.createDataKey(subject);
      const version = await backend.rotateKey(subject);
      expect(version).toBe(before.keyVersion + 1);
      const after = await backend.createDataKey(subject);
      expect(after.keyVersion).toBe(version);
      expect(await backend.openDataKey(subject, before.wrapped)).toEqual(before.plaintext);
      const rewrapped = await backend.rewrapDataKey(subject, before.wrapped);
      expect(rewrapped).not.toBe(before.wrapped);
      expect(await backend.openDataKey(subject, rewrapped)).toEqual(before.plaintext);
    });

    it('crypto-shreds: once an owner’s key is deleted, its data keys never open again', async () => {
      const carol = owner('user');
      const key = await backend.createDataKey(carol);
      expect(await backend.deleteKeys(carol)).toBe(true);
      await expect(backend.openDataKey(carol, key.wrapped)).rejects.toBeInstanceOf(SecretsError);
      expect(await backend.deleteKeys(carol)).toBe(false);
    });

    it("deletes a tenant's keys, its people's included, and leaves other tenants' alone", async () => {
      const doomed = randomUUID();
      const keys = [owner('tenant', doomed), owner('user', doomed), owner('user', doomed)];
      const wrapped = await Promise.all(
        keys.map(async (subject) => ({ subject, key: await backend.createDataKey(subject) })),
      );
      const survivor = owner('tenant', otherTenant);
      const kept = await backend.createDataKey(survivor);
      expect(await backend.deleteTenantKeys(doomed)).toBe(3);
      for (const { subject, key } of wrapped)
        await expect(backend.openDataKey(subject, key.wrapped)).rejects.toBeInstanceOf(
          SecretsError,
        );
      expect(await backend.openDataKey(survivor, kept.wrapped)).toEqual(kept.plaintext);
    });

    it('refuses ids that are not plain path segments, before asking anything', async () => {
      await expect(
        backend.putRefreshToken({ tenantId: '../../sys', connectionId: 'x' }, 't'),
      ).rejects.toThrow();
      await expect(
        backend.createDataKey({ tenantId: 'a/b', scope: 'tenant', id: 'a/b' }),
      ).rejects.toThrow();
    });
  });
}
