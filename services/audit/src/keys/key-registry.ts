import type { TrustedKey } from '@heroagent/audit-chain';
import type { ServiceName } from '@heroagent/contracts';
import {
  ed25519Fingerprint,
  ed25519PublicKeyFromRaw,
  exportEd25519PublicKey,
  fromBase64Url,
  toBase64Url,
  type SigningKey,
} from '@heroagent/crypto';
import type { Kysely } from '@heroagent/db';
import type { AuditDatabase } from '../store/tables.js';

/** Raised when configuration and the stored registry disagree about a key: never silently resolved. */
export class KeyRegistryError extends Error {
  readonly code = 'KEY_REGISTRY_CONFLICT';
}

/**
 * The registry of service signing keys (key id → public key, service, validity). Keys come from
 * configuration and are recorded once; a key id can never change its public key, and a key can
 * only be retired (given an end of validity). The audit service's own key is registered too, so
 * bundles carry what verifies its checkpoints.
 */
export class KeyRegistry {
  constructor(private readonly db: Kysely<AuditDatabase>) {}

  async sync(configured: readonly TrustedKey[], own: SigningKey, now: Date): Promise<void> {
    const ownKey: TrustedKey = {
      kid: own.kid,
      service: 'audit',
      publicKey: toBase64Url(exportEd25519PublicKey(own.publicKey)),
      notBefore: now.toISOString(),
    };
    for (const key of [...configured, ownKey]) {
      const publicKey = fromBase64Url(key.publicKey)!;
      await this.db
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          service: key.service,
          public_key: publicKey,
          not_before: new Date(key.notBefore),
          not_after: key.notAfter === undefined ? null : new Date(key.notAfter),
        })
        .onConflict((conflict) => conflict.column('kid').doNothing())
        .execute();
      const stored = await this.db
        .selectFrom('signing_keys')
        .select(['service', 'public_key', 'not_after'])
        .where('kid', '=', key.kid)
        .executeTakeFirstOrThrow();
      if (!stored.public_key.equals(publicKey) || stored.service !== key.service) {
        throw new KeyRegistryError(
          `key ${key.kid} is registered with another public key or service`,
        );
      }
      if (key.notAfter !== undefined && stored.not_after === null) {
        await this.db
          .updateTable('signing_keys')
          .set({ not_after: new Date(key.notAfter) })
          .where('kid', '=', key.kid)
          .execute();
      }
    }
  }

  /** Every registered key, as the checker and bundles need them. */
  async all(): Promise<TrustedKey[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .select(['kid', 'service', 'public_key', 'not_before', 'not_after'])
      .orderBy('registered_at')
      .orderBy('kid')
      .execute();
    return rows.map((row) => ({
      kid: row.kid,
      service: row.service as ServiceName,
      publicKey: toBase64Url(row.public_key),
      notBefore: row.not_before.toISOString(),
      ...(row.not_after === null ? {} : { notAfter: row.not_after.toISOString() }),
    }));
  }
}

/**
 * The audit keys the service's own verification trusts: its configured keys, never whatever the
 * stored registry says (a registry rewritten together with the record must not vouch for it).
 */
export function pinnedAuditKeys(own: SigningKey, configured: readonly TrustedKey[]): Set<string> {
  const pinned = new Set([ed25519Fingerprint(own.publicKey)]);
  for (const key of configured) {
    if (key.service === 'audit')
      pinned.add(ed25519Fingerprint(ed25519PublicKeyFromRaw(fromBase64Url(key.publicKey)!)));
  }
  return pinned;
}
