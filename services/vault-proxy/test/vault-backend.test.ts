import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@heroagent/telemetry';
import { SecretsError } from '../src/secrets/secrets-backend.js';
import { VaultConnection, type VaultAuth } from '../src/secrets/vault/vault-connection.js';
import { VaultSecretsBackend } from '../src/secrets/vault/vault-secrets-backend.js';
import { VaultDouble } from '@heroagent/doubles';
import { secretsBackendContract } from './secrets-backend.contract.js';

const logger = createLogger({ service: 'vault-proxy', level: 'silent' });
const MOUNTS = { kv: 'heroagent-kv', transit: 'heroagent-transit' };

async function mounted(vault: VaultDouble): Promise<void> {
  const root = await VaultConnection.connect(
    {
      address: vault.address,
      timeoutMs: 2000,
      auth: { method: 'token', token: vault.rootToken },
      strictWarnings: true,
    },
    logger,
  );
  await root.call('POST', `sys/mounts/${MOUNTS.kv}`, { type: 'kv', options: { version: '2' } });
  await root.call('POST', `sys/mounts/${MOUNTS.transit}`, { type: 'transit' });
  await root.close();
}

/** The least privilege vault-proxy needs, as a deploy would write its policy. */
function vaultProxyPolicy(vault: VaultDouble): void {
  vault.setPolicy('vault-proxy', [
    { path: `${MOUNTS.kv}/data/tenants/*`, capabilities: ['create', 'read', 'update'] },
    { path: `${MOUNTS.kv}/metadata/tenants/*`, capabilities: ['list', 'delete'] },
    { path: `${MOUNTS.transit}/keys`, capabilities: ['list'] },
    { path: `${MOUNTS.transit}/keys/*`, capabilities: ['create', 'read', 'update', 'delete'] },
    { path: `${MOUNTS.transit}/datakey/plaintext/*`, capabilities: ['update'] },
    { path: `${MOUNTS.transit}/decrypt/*`, capabilities: ['update'] },
    { path: `${MOUNTS.transit}/rewrap/*`, capabilities: ['update'] },
  ]);
}

describe('Vault adapter against the Vault double', () => {
  let vault: VaultDouble;
  beforeAll(async () => {
    vault = await VaultDouble.start();
    await mounted(vault);
    vaultProxyPolicy(vault);
  });
  afterAll(() => vault.close());

  const connect = (auth: VaultAuth, extra: { namespace?: string; timeoutMs?: number } = {}) =>
    VaultConnection.connect(
      {
        address: vault.address,
        timeoutMs: extra.timeoutMs ?? 2000,
        auth,
        strictWarnings: true,
        ...extra,
      },
      logger,
    );

  secretsBackendContract('Vault adapter + Vault double (policy token)', async () => {
    const backend = new VaultSecretsBackend(
      await connect({ method: 'token', token: vault.issueToken(['vault-proxy']) }),
      MOUNTS,
    );
    return { backend, teardown: () => backend.close() };
  });

  it('uses the exact paths, the token header and the namespace on every call', async () => {
    const token = vault.issueToken(['vault-proxy']);
    const backend = new VaultSecretsBackend(
      await connect({ method: 'token', token }, { namespace: 'heroagent/prod' }),
      MOUNTS,
    );
    const tenantId = randomUUID();
    const connectionId = randomUUID();
    const before = vault.requests.length;
    await backend.putRefreshToken({ tenantId, connectionId }, '1//path-test');
    await backend.getRefreshToken({ tenantId, connectionId });
    await backend.deleteRefreshToken({ tenantId, connectionId });
    const calls = vault.requests
      .slice(before)
      .map((request) => `${request.method} ${request.path}`);
    expect(calls).toEqual([
      `POST ${MOUNTS.kv}/data/tenants/${tenantId}/connections/${connectionId}`,
      `GET ${MOUNTS.kv}/data/tenants/${tenantId}/connections/${connectionId}`,
      `DELETE ${MOUNTS.kv}/metadata/tenants/${tenantId}/connections/${connectionId}`,
    ]);
    for (const request of vault.requests.slice(before)) {
      expect(request.headers['x-vault-token']).toBe(token);
      expect(request.headers['x-vault-namespace']).toBe('heroagent/prod');
    }
    expect(vault.requests.at(-3)?.body).toEqual({ data: { refresh_token: '1//path-test' } });
    await backend.close();
  });

  it('never picks up VAULT_TOKEN or VAULT_NAMESPACE from its environment', async () => {
    process.env.VAULT_TOKEN = vault.rootToken;
    process.env.VAULT_NAMESPACE = 'from-the-environment';
    try {
      const roleless = vault.addAppRole(['vault-proxy']);
      const connection = await connect({
        method: 'approle',
        roleId: roleless.roleId,
        secretId: roleless.secretId,
        mount: 'approle',
      });
      const login = vault.requests.at(-1)!;
      expect(login.path).toBe('auth/approle/login');
      expect(login.headers['x-vault-token']).toBeUndefined();
      expect(login.headers['x-vault-namespace']).toBeUndefined();
      // The policy token, not the root token from the environment, is what it then uses.
      await expect(
        connection.call('POST', `sys/mounts/${randomUUID().slice(0, 8)}`, { type: 'kv' }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await connection.close();
    } finally {
      delete process.env.VAULT_TOKEN;
      delete process.env.VAULT_NAMESPACE;
    }
  });

  it('logs in with AppRole and with Kubernetes (to the mount it is given)', async () => {
    const role = vault.addAppRole(['vault-proxy']);
    const approle = new VaultSecretsBackend(
      await connect({
        method: 'approle',
        roleId: role.roleId,
        secretId: role.secretId,
        mount: 'approle',
      }),
      MOUNTS,
    );
    await approle.putRefreshToken(
      { tenantId: randomUUID(), connectionId: randomUUID() },
      '1//approle',
    );
    await approle.close();

    const dir = await mkdtemp(join(tmpdir(), 'k8s-'));
    try {
      const jwtFile = join(dir, 'token');
      await writeFile(
        jwtFile,
        'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aGVyb2FnZW50In0.sig\n',
      );
      vault.addKubernetesRole(
        'heroagent-vault-proxy',
        'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aGVyb2FnZW50In0.sig',
        ['vault-proxy'],
      );
      const kubernetes = await connect({
        method: 'kubernetes',
        role: 'heroagent-vault-proxy',
        jwtFile,
        mount: 'k8s-cluster',
      });
      expect(vault.requests.at(-1)?.path).toBe('auth/k8s-cluster/login');
      await kubernetes.close();
      await expect(
        connect({ method: 'approle', roleId: role.roleId, secretId: 'wrong', mount: 'approle' }),
      ).rejects.toMatchObject({ code: 'INVALID' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renews its token before the TTL runs out', async () => {
    const role = vault.addAppRole(['vault-proxy']);
    const connection = await connect({
      method: 'approle',
      roleId: role.roleId,
      secretId: role.secretId,
      mount: 'approle',
    });
    // The double's login TTL is 60 s; renewal is due at 40 s. Exercise the path directly.
    const before = vault.requests.filter(
      (request) => request.path === 'auth/token/renew-self',
    ).length;
    await (connection as unknown as { renew(): Promise<void> }).renew();
    expect(
      vault.requests.filter((request) => request.path === 'auth/token/renew-self').length,
    ).toBe(before + 1);
    await connection.close();
  });

  it('maps 403, 404 and an expired token, and treats any warning as a failure', async () => {
    const limited = vault.issueToken(['nothing']);
    const connection = await connect({ method: 'token', token: vault.rootToken });
    const weak = new VaultSecretsBackend(
      await connect({ method: 'token', token: limited }),
      MOUNTS,
    );
    await expect(
      weak.putRefreshToken({ tenantId: randomUUID(), connectionId: randomUUID() }, 't'),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      connection.call('GET', `${MOUNTS.kv}/data/tenants/none/connections/none`),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      connection.call('POST', `${MOUNTS.transit}/keys/warned`, {
        type: 'aes256-gcm96',
        colour: 'blue',
      }),
    ).rejects.toMatchObject({
      code: 'WARNING',
    });
    const shortLived = vault.issueToken(['vault-proxy']);
    const expiring = new VaultSecretsBackend(
      await connect({ method: 'token', token: shortLived }),
      MOUNTS,
    );
    vault.expire(shortLived);
    await expect(
      expiring.getRefreshToken({ tenantId: randomUUID(), connectionId: randomUUID() }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await connection.close();
    await weak.close();
  });

  it('honours num_uses: a token limited to one use is refused the second time', async () => {
    const once = vault.issueToken(['vault-proxy'], { numUses: 2 });
    const backend = new VaultSecretsBackend(
      await connect({ method: 'token', token: once }),
      MOUNTS,
    ); // lookup-self uses one
    const ref = { tenantId: randomUUID(), connectionId: randomUUID() };
    await backend.putRefreshToken(ref, '1//once');
    await expect(backend.getRefreshToken(ref)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('fails closed when Vault is sealed, in standby or unreachable', async () => {
    const backend = new VaultSecretsBackend(
      await connect({ method: 'token', token: vault.issueToken(['vault-proxy']) }),
      MOUNTS,
    );
    vault.sealed = true;
    try {
      expect(await backend.health()).toMatchObject({
        available: false,
        sealed: true,
        detail: 'sealed',
      });
      await expect(
        backend.getRefreshToken({ tenantId: randomUUID(), connectionId: randomUUID() }),
      ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      vault.sealed = false;
    }
    vault.standby = true;
    try {
      expect(await backend.health()).toMatchObject({ available: false, standby: true });
    } finally {
      vault.standby = false;
    }
    await expect(
      VaultConnection.connect(
        {
          address: 'http://127.0.0.1:1',
          timeoutMs: 500,
          auth: { method: 'token', token: 'hvs.x' },
          strictWarnings: true,
        },
        logger,
      ),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('unwraps a response-wrapped secret exactly once', async () => {
    const connection = await connect({ method: 'token', token: vault.rootToken });
    const ref = `tenants/${randomUUID()}/connections/${randomUUID()}`;
    await connection.call('POST', `${MOUNTS.kv}/data/${ref}`, {
      data: { refresh_token: '1//wrapped' },
    });
    const wrapped = await fetch(`${vault.address}/v1/${MOUNTS.kv}/data/${ref}`, {
      headers: { 'X-Vault-Token': vault.rootToken, 'X-Vault-Wrap-TTL': '60' },
    }).then(
      (response) => response.json() as Promise<{ wrap_info: { token: string }; data: unknown }>,
    );
    expect(wrapped.data).toBeNull();
    const unwrap = () =>
      fetch(`${vault.address}/v1/sys/wrapping/unwrap`, {
        method: 'POST',
        headers: { 'X-Vault-Token': wrapped.wrap_info.token },
      });
    expect(((await (await unwrap()).json()) as { data: { data: unknown } }).data.data).toEqual({
      refresh_token: '1//wrapped',
    });
    expect((await unwrap()).status).toBe(400);
    await connection.close();
  });

  it('reports every failure as a SecretsError without any token in it', async () => {
    const secretToken = vault.issueToken(['nothing']);
    const backend = new VaultSecretsBackend(
      await connect({ method: 'token', token: secretToken }),
      MOUNTS,
    );
    const error = await backend
      .getRefreshToken({ tenantId: randomUUID(), connectionId: randomUUID() })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretsError);
    expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain(
      secretToken,
    );
  });
});
