import {
  SecretsError,
  keyName,
  pathSegment,
  type BackendHealth,
  type DataKey,
  type KeyOwner,
  type SecretRef,
  type SecretsBackend,
} from '../secrets-backend.js';
import type { VaultConnection } from './vault-connection.js';

/** Where in Vault vault-proxy keeps things. */
export interface VaultMounts {
  /** A KV version 2 mount for refresh tokens. */
  readonly kv: string;
  /** A Transit mount for key-encryption keys. */
  readonly transit: string;
}

/**
 * Secrets in Vault: refresh tokens in KV v2 at `<kv>/data/tenants/<tenant>/connections/<id>`, one
 * Transit key per tenant and per person (`t-<tenant>`, `u-<tenant>-<user>`) wrapping data keys.
 */
export class VaultSecretsBackend implements SecretsBackend {
  readonly kind = 'vault';

  constructor(
    private readonly vault: VaultConnection,
    private readonly mounts: VaultMounts,
  ) {
    pathSegment(mounts.kv);
    pathSegment(mounts.transit);
  }

  async health(): Promise<BackendHealth> {
    try {
      const { sealed, standby, initialized } = await this.vault.health();
      const available = initialized && !sealed && !standby;
      const detail = !initialized
        ? 'not initialised'
        : sealed
          ? 'sealed'
          : standby
            ? 'standby'
            : 'active';
      return { available, sealed, standby, detail };
    } catch (error) {
      return {
        available: false,
        sealed: false,
        standby: false,
        detail: error instanceof Error ? error.message : 'unreachable',
      };
    }
  }

  async putRefreshToken(ref: SecretRef, token: string): Promise<number> {
    const response = await this.vault.call('POST', `${this.mounts.kv}/data/${secretPath(ref)}`, {
      data: { refresh_token: token },
    });
    return Number(response?.data?.version ?? 0);
  }

  async getRefreshToken(ref: SecretRef): Promise<string | undefined> {
    try {
      const response = await this.vault.call('GET', `${this.mounts.kv}/data/${secretPath(ref)}`);
      const value = (response?.data?.data as { refresh_token?: unknown } | undefined)
        ?.refresh_token;
      return typeof value === 'string' ? value : undefined;
    } catch (error) {
      if (error instanceof SecretsError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  async deleteRefreshToken(ref: SecretRef): Promise<void> {
    // Deleting the metadata removes every version and its history.
    await this.vault.call('DELETE', `${this.mounts.kv}/metadata/${secretPath(ref)}`);
  }

  async deleteTenantSecrets(tenantId: string): Promise<number> {
    let keys: string[];
    try {
      const response = await this.vault.call(
        'LIST',
        `${this.mounts.kv}/metadata/tenants/${pathSegment(tenantId)}/connections`,
      );
      keys = ((response?.data?.keys as string[] | undefined) ?? []).filter(
        (key) => !key.endsWith('/'),
      );
    } catch (error) {
      if (error instanceof SecretsError && error.code === 'NOT_FOUND') return 0;
      throw error;
    }
    for (const connectionId of keys) await this.deleteRefreshToken({ tenantId, connectionId });
    return keys.length;
  }

  async createDataKey(owner: KeyOwner): Promise<DataKey> {
    const name = keyName(owner);
    await this.vault.call('POST', `${this.mounts.transit}/keys/${name}`, { type: 'aes256-gcm96' });
    const response = await this.vault.call(
      'POST',
      `${this.mounts.transit}/datakey/plaintext/${name}`,
      { bits: 256 },
    );
    const plaintext = response?.data?.plaintext;
    const wrapped = response?.data?.ciphertext;
    if (typeof plaintext !== 'string' || typeof wrapped !== 'string')
      throw new SecretsError('INVALID', 'Vault gave no data key');
    return {
      plaintext: Buffer.from(plaintext, 'base64'),
      wrapped,
      keyVersion: Number(response?.data?.key_version ?? 1),
    };
  }

  async openDataKey(owner: KeyOwner, wrapped: string): Promise<Buffer> {
    let response;
    try {
      response = await this.vault.call('POST', `${this.mounts.transit}/decrypt/${keyName(owner)}`, {
        ciphertext: wrapped,
      });
    } catch (error) {
      // Vault answers 400 for a key that was deleted or a ciphertext it cannot open.
      if (error instanceof SecretsError && error.code === 'INVALID')
        throw new SecretsError('NOT_FOUND', 'the data key does not open');
      throw error;
    }
    const plaintext = response?.data?.plaintext;
    if (typeof plaintext !== 'string') throw new SecretsError('INVALID', 'Vault gave no plaintext');
    return Buffer.from(plaintext, 'base64');
  }

  async rotateKey(owner: KeyOwner): Promise<number> {
    const name = keyName(owner);
    await this.vault.call('POST', `${this.mounts.transit}/keys/${name}/rotate`, {});
    const response = await this.vault.call('GET', `${this.mounts.transit}/keys/${name}`);
    return Number(response?.data?.latest_version ?? 0);
  }

  async rewrapDataKey(owner: KeyOwner, wrapped: string): Promise<string> {
    const response = await this.vault.call(
      'POST',
      `${this.mounts.transit}/rewrap/${keyName(owner)}`,
      { ciphertext: wrapped },
    );
    const ciphertext = response?.data?.ciphertext;
    if (typeof ciphertext !== 'string')
      throw new SecretsError('INVALID', 'Vault gave no ciphertext');
    return ciphertext;
  }

  async deleteKeys(owner: KeyOwner): Promise<boolean> {
    const name = keyName(owner);
    try {
      await this.vault.call('POST', `${this.mounts.transit}/keys/${name}/config`, {
        deletion_allowed: true,
      });
    } catch (error) {
      // Vault answers 400 for a key that does not exist.
      if (error instanceof SecretsError && (error.code === 'NOT_FOUND' || error.code === 'INVALID'))
        return false;
      throw error;
    }
    await this.vault.call('DELETE', `${this.mounts.transit}/keys/${name}`);
    return true;
  }

  async deleteTenantKeys(tenantId: string): Promise<number> {
    let names: string[];
    try {
      const response = await this.vault.call('LIST', `${this.mounts.transit}/keys`);
      names = (response?.data?.keys as string[] | undefined) ?? [];
    } catch (error) {
      if (error instanceof SecretsError && error.code === 'NOT_FOUND') return 0;
      throw error;
    }
    const tenantKey = `t-${pathSegment(tenantId)}`;
    const mine = names.filter((name) => name === tenantKey || name.startsWith(`u-${tenantId}-`));
    let deleted = 0;
    for (const name of mine) {
      const [scope, ...rest] = name.split('-');
      const owner: KeyOwner =
        scope === 't'
          ? { tenantId, scope: 'tenant', id: tenantId }
          : { tenantId, scope: 'user', id: rest.slice(5).join('-') };
      if (await this.deleteKeys(owner)) deleted += 1;
    }
    return deleted;
  }

  async close(): Promise<void> {
    await this.vault.close();
  }
}

function secretPath(ref: SecretRef): string {
  return `tenants/${pathSegment(ref.tenantId)}/connections/${pathSegment(ref.connectionId)}`;
}
