import {
  ciphertextKeyVersion,
  decryptValue,
  encryptValue,
  generateDataKey,
  keyRing,
  rewrapValue,
  unwrapDataKey,
  wrapDataKey,
  CryptoError,
  type KeyRing,
} from '@heroagent/crypto';
import { withTenant, type Kysely, type Transaction } from '@heroagent/db';
import type { Logger } from '@heroagent/telemetry';
import type { VaultProxyDatabase } from '../../store-tables.js';
import {
  SecretsError,
  keyName,
  type BackendHealth,
  type DataKey,
  type KeyOwner,
  type SecretRef,
  type SecretsBackend,
} from '../secrets-backend.js';

/**
 * The embedded secrets store, for `pnpm start` and small self-hosted installations: refresh tokens
 * and per-owner key-encryption keys in vault-proxy's Postgres schema, AES-256-GCM under the
 * versioned master keys of a local key file. It is not Vault: no HSM, no audit device, no
 * seal; whoever has the key file and the database has the secrets. It says so at start.
 */
export class EmbeddedSecretsBackend implements SecretsBackend {
  readonly kind = 'embedded';
  /** Values the key file could not open during the last rewrap (damage, or a foreign key file). */
  unreadable = 0;

  constructor(
    private readonly db: Kysely<VaultProxyDatabase>,
    private readonly master: KeyRing,
  ) {}

  /** Warns, loudly, and rewraps anything still under an older master key version. */
  async start(logger: Logger): Promise<void> {
    logger.warn(
      { code: 'EMBEDDED_SECRETS_NOT_VAULT' },
      'SECRETS ARE IN THE EMBEDDED STORE, NOT IN VAULT: refresh tokens and keys are encrypted with a local key file. ' +
        'Use it for development and small self-hosted installs only; set VAULT_ADDR to use Vault.',
    );
    const rewrapped = await this.rewrapAll();
    if (this.unreadable > 0) {
      logger.error(
        { code: 'EMBEDDED_SECRETS_UNREADABLE', count: this.unreadable },
        'some embedded secrets do not open with the key file',
      );
    }
    if (rewrapped > 0)
      logger.info(
        { rewrapped, version: this.master.currentVersion },
        'embedded secrets rewrapped to the current master key',
      );
  }

  health(): Promise<BackendHealth> {
    return Promise.resolve({
      available: true,
      sealed: false,
      standby: false,
      detail: 'embedded (not Vault)',
    });
  }

  async putRefreshToken(ref: SecretRef, token: string): Promise<number> {
    return withTenant(this.db, ref.tenantId, async (trx) => {
      await this.recordTenant(ref.tenantId);
      const latest = await trx
        .selectFrom('embedded_secrets')
        .select((eb) => eb.fn.max('version').as('version'))
        .where('tenant_id', '=', ref.tenantId)
        .where('connection_id', '=', ref.connectionId)
        .executeTakeFirst();
      const version = (latest?.version ?? 0) + 1;
      await trx
        .insertInto('embedded_secrets')
        .values({
          tenant_id: ref.tenantId,
          connection_id: ref.connectionId,
          version,
          ciphertext: encryptValue(Buffer.from(token, 'utf8'), this.master, secretContext(ref)),
        })
        .execute();
      return version;
    });
  }

  async getRefreshToken(ref: SecretRef): Promise<string | undefined> {
    const row = await withTenant(this.db, ref.tenantId, (trx) =>
      trx
        .selectFrom('embedded_secrets')
        .select('ciphertext')
        .where('tenant_id', '=', ref.tenantId)
        .where('connection_id', '=', ref.connectionId)
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst(),
    );
    return row === undefined
      ? undefined
      : this.decrypt(row.ciphertext, secretContext(ref)).toString('utf8');
  }

  async deleteRefreshToken(ref: SecretRef): Promise<void> {
    await withTenant(this.db, ref.tenantId, (trx) =>
      trx
        .deleteFrom('embedded_secrets')
        .where('tenant_id', '=', ref.tenantId)
        .where('connection_id', '=', ref.connectionId)
        .execute(),
    );
  }

  async deleteTenantSecrets(tenantId: string): Promise<number> {
    const rows = await withTenant(this.db, tenantId, (trx) =>
      trx
        .deleteFrom('embedded_secrets')
        .where('tenant_id', '=', tenantId)
        .returning('connection_id')
        .execute(),
    );
    return new Set(rows.map((row) => row.connection_id)).size;
  }

  async createDataKey(owner: KeyOwner): Promise<DataKey> {
    return withTenant(this.db, owner.tenantId, async (trx) => {
      await this.recordTenant(owner.tenantId);
      let ring = await this.ownerRing(trx, owner);
      if (ring === undefined) {
        await this.addKeyVersion(trx, owner, 1);
        ring = (await this.ownerRing(trx, owner))!;
      }
      const plaintext = generateDataKey();
      return {
        plaintext,
        wrapped: wrapDataKey(plaintext, ring, keyName(owner)),
        keyVersion: ring.currentVersion,
      };
    });
  }

  async openDataKey(owner: KeyOwner, wrapped: string): Promise<Buffer> {
    const ring = await withTenant(this.db, owner.tenantId, (trx) => this.ownerRing(trx, owner));
    if (ring === undefined)
      throw new SecretsError('NOT_FOUND', 'no key for this owner (it may have been erased)');
    try {
      return unwrapDataKey(wrapped, ring, keyName(owner));
    } catch (error) {
      throw new SecretsError(
        error instanceof CryptoError && error.code === 'MALFORMED_CIPHERTEXT'
          ? 'INVALID'
          : 'NOT_FOUND',
        'the data key does not open',
      );
    }
  }

  async rotateKey(owner: KeyOwner): Promise<number> {
    return withTenant(this.db, owner.tenantId, async (trx) => {
      const ring = await this.ownerRing(trx, owner);
      const next = (ring?.currentVersion ?? 0) + 1;
      await this.addKeyVersion(trx, owner, next);
      return next;
    });
  }

  async rewrapDataKey(owner: KeyOwner, wrapped: string): Promise<string> {
    const ring = await withTenant(this.db, owner.tenantId, (trx) => this.ownerRing(trx, owner));
    if (ring === undefined) throw new SecretsError('NOT_FOUND', 'no key for this owner');
    return rewrapValue(wrapped, ring, keyName(owner));
  }

  async deleteKeys(owner: KeyOwner): Promise<boolean> {
    const rows = await withTenant(this.db, owner.tenantId, (trx) =>
      trx
        .deleteFrom('embedded_keys')
        .where('tenant_id', '=', owner.tenantId)
        .where('owner_scope', '=', owner.scope)
        .where('owner_id', '=', owner.id)
        .returning('version')
        .execute(),
    );
    return rows.length > 0;
  }

  async deleteTenantKeys(tenantId: string): Promise<number> {
    const rows = await withTenant(this.db, tenantId, (trx) =>
      trx
        .deleteFrom('embedded_keys')
        .where('tenant_id', '=', tenantId)
        .returning(['owner_scope', 'owner_id'])
        .execute(),
    );
    return new Set(rows.map((row) => `${row.owner_scope}:${row.owner_id}`)).size;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Re-encrypts every secret and key still under an older master version; returns how many. */
  async rewrapAll(): Promise<number> {
    const tenants = await this.db.selectFrom('tenants').select('tenant_id').execute();
    let count = 0;
    for (const { tenant_id: tenantId } of tenants) {
      count += await withTenant(this.db, tenantId, async (trx) => {
        let changed = 0;
        const secrets = await trx
          .selectFrom('embedded_secrets')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .execute();
        for (const row of secrets) {
          if (ciphertextKeyVersion(row.ciphertext) === this.master.currentVersion) continue;
          const ciphertext = this.tryRewrap(
            row.ciphertext,
            secretContext({ tenantId, connectionId: row.connection_id }),
          );
          if (ciphertext === undefined) continue;
          await trx
            .updateTable('embedded_secrets')
            .set({ ciphertext })
            .where('tenant_id', '=', tenantId)
            .where('connection_id', '=', row.connection_id)
            .where('version', '=', row.version)
            .execute();
          changed += 1;
        }
        const keys = await trx
          .selectFrom('embedded_keys')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .execute();
        for (const row of keys) {
          if (ciphertextKeyVersion(row.key_ciphertext) === this.master.currentVersion) continue;
          const owner = { tenantId, scope: row.owner_scope, id: row.owner_id };
          const key_ciphertext = this.tryRewrap(row.key_ciphertext, kekContext(owner, row.version));
          if (key_ciphertext === undefined) continue;
          await trx
            .updateTable('embedded_keys')
            .set({ key_ciphertext })
            .where('tenant_id', '=', tenantId)
            .where('owner_scope', '=', row.owner_scope)
            .where('owner_id', '=', row.owner_id)
            .where('version', '=', row.version)
            .execute();
          changed += 1;
        }
        return changed;
      });
    }
    return count;
  }

  /** Rewraps one value; a value no key opens is left as it is and counted, not fatal. */
  private tryRewrap(ciphertext: string, context: string): string | undefined {
    try {
      return rewrapValue(ciphertext, this.master, context);
    } catch {
      this.unreadable += 1;
      return undefined;
    }
  }

  private async recordTenant(tenantId: string): Promise<void> {
    await this.db
      .insertInto('tenants')
      .values({ tenant_id: tenantId })
      .onConflict((conflict) => conflict.column('tenant_id').doNothing())
      .execute();
  }

  private async ownerRing(
    trx: Transaction<VaultProxyDatabase>,
    owner: KeyOwner,
  ): Promise<KeyRing | undefined> {
    const rows = await trx
      .selectFrom('embedded_keys')
      .select(['version', 'key_ciphertext'])
      .where('tenant_id', '=', owner.tenantId)
      .where('owner_scope', '=', owner.scope)
      .where('owner_id', '=', owner.id)
      .execute();
    if (rows.length === 0) return undefined;
    return keyRing(
      new Map(
        rows.map((row) => [
          row.version,
          this.decrypt(row.key_ciphertext, kekContext(owner, row.version)),
        ]),
      ),
    );
  }

  private async addKeyVersion(
    trx: Transaction<VaultProxyDatabase>,
    owner: KeyOwner,
    version: number,
  ): Promise<void> {
    await trx
      .insertInto('embedded_keys')
      .values({
        tenant_id: owner.tenantId,
        owner_scope: owner.scope,
        owner_id: owner.id,
        version,
        key_ciphertext: encryptValue(generateDataKey(), this.master, kekContext(owner, version)),
      })
      .execute();
  }

  private decrypt(ciphertext: string, context: string): Buffer {
    try {
      return decryptValue(ciphertext, this.master, context);
    } catch {
      throw new SecretsError(
        'UNAVAILABLE',
        'an embedded secret does not decrypt with the key file (wrong or missing key version)',
      );
    }
  }
}

function secretContext(ref: SecretRef): string {
  return `refresh-token:${ref.tenantId}:${ref.connectionId}`;
}

function kekContext(owner: KeyOwner, version: number): string {
  return `kek:${keyName(owner)}:v${version}`;
}
