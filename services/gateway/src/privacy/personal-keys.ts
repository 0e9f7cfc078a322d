import { ContractError } from '@heroagent/contracts';
import {
  ciphertextKeyVersion,
  CryptoError,
  decryptValue,
  encryptValue,
  keyedDigest,
  keyedDigestMatches,
  keyedDigestVersion,
  keyRing,
  type KeyRing,
} from '@heroagent/crypto';
import { useTenant, withSettings, type Kysely, type Transaction } from '@heroagent/db';
import type { VaultProxyClient } from '../connections/vault-proxy.client.js';
import type { GatewayDatabase } from '../store-tables.js';

/** Whose data a key encrypts: the tenant's own (invitations, tenant-wide records) or one person's. */
export interface KeyOwner {
  readonly tenantId: string;
  readonly scope: 'tenant' | 'user';
  /** The tenant's id for its own key; the person's id for theirs. */
  readonly id: string;
}

/** What a sealed value reads as once its owner's key was erased. */
export const ERASED = Object.freeze({ erased: true as const });
export type Erased = typeof ERASED;

/**
 * Encrypts and decrypts one owner's personal values with their data key (AES-256-GCM, through
 * `encryptValue`). The caller's context names where the value belongs (a column and row, an audit
 * event), so a ciphertext copied elsewhere does not decrypt; another owner's key opens nothing.
 */
export class Sealer {
  constructor(
    readonly owner: KeyOwner,
    /** Undefined once the owner's key is erased: sealing is refused, opening answers ERASED. */
    private readonly ring: KeyRing | undefined,
    /** Called when a value was sealed with a newer key than this replica holds. */
    private readonly stale: () => void = () => undefined,
  ) {}

  get erased(): boolean {
    return this.ring === undefined;
  }

  /** The version of the owner's data key new values are sealed with. */
  get version(): number {
    if (this.ring === undefined) throw new ContractError('FORBIDDEN', 'no key: it was erased');
    return this.ring.currentVersion;
  }

  seal(context: string, plaintext: string): string {
    return encryptValue(Buffer.from(plaintext, 'utf8'), this.writable(), context);
  }

  /** A JSON value sealed as text (a jsonb column holds it as a JSON string). */
  sealJson(context: string, value: unknown): string {
    return this.seal(context, JSON.stringify(value));
  }

  /**
   * The text a `seal` made, or ERASED when the key that sealed it is gone: the owner's keys are
   * only ever taken away by an erasure, so a version the ring lacks was erased.
   */
  open(context: string, ciphertext: string): string | Erased {
    return this.withKeyOf(
      () => ciphertextKeyVersion(ciphertext),
      'a sealed value does not open',
      (ring) => decryptValue(ciphertext, ring, context).toString('utf8'),
    );
  }

  /**
   * A keyed digest of a text (privacy/…: what makes two requests the same), so whoever reads the
   * database without the key cannot confirm a guess of it.
   */
  digest(context: string, text: string): Buffer {
    return keyedDigest(Buffer.from(text, 'utf8'), this.writable(), context);
  }

  /** Whether `digest` is the digest of `text`; ERASED once the key that made it is gone. */
  digestMatches(context: string, text: string, digest: Uint8Array): boolean | Erased {
    return this.withKeyOf(
      () => keyedDigestVersion(digest),
      'a keyed digest does not check',
      (ring) => keyedDigestMatches(digest, Buffer.from(text, 'utf8'), ring, context),
    );
  }

  /** The ring new values are made with; refused once the owner's key is erased. */
  private writable(): KeyRing {
    if (this.ring === undefined) {
      throw new ContractError('FORBIDDEN', 'this person’s data was erased: nothing more is kept');
    }
    return this.ring;
  }

  /**
   * `use` with the ring, for a value made under the key version `versionOf` reads from it: ERASED
   * when that key is gone, CONFLICT (and this copy dropped) when it is newer than this replica's,
   * INTERNAL when the value is not one of ours.
   */
  private withKeyOf<T>(
    versionOf: () => number,
    failure: string,
    use: (ring: KeyRing) => T,
  ): T | Erased {
    if (this.ring === undefined) return ERASED;
    try {
      const version = versionOf();
      if (version > this.ring.currentVersion) {
        // Made by another replica after an erasure this one has not caught up with yet.
        this.stale();
        throw new ContractError('CONFLICT', 'a newer key made this: try again');
      }
      if (!this.ring.keys.has(version)) return ERASED;
      return use(this.ring);
    } catch (error) {
      if (error instanceof CryptoError) {
        throw new ContractError('INTERNAL', `${failure} (${error.code})`);
      }
      throw error;
    }
  }

  openJson(context: string, ciphertext: unknown): unknown {
    if (typeof ciphertext !== 'string') {
      throw new ContractError(
        'INTERNAL',
        'a sealed column holds something other than a ciphertext',
      );
    }
    const text = this.open(context, ciphertext);
    return typeof text === 'string' ? (JSON.parse(text) as unknown) : text;
  }
}

interface CachedRing {
  readonly ring: KeyRing | undefined;
  readonly until: number;
}

/**
 * The data keys of tenants and of the people in them, as this replica uses them. A key is made
 * the first time its owner has something to seal: vault-proxy generates it and wraps it with the
 * owner's key-encryption key; only the wrapped form is stored here (`data_keys`). Unwrapped keys
 * stay in this process's memory for `ttlMs` at most. An erasure is forgotten at once by the
 * replica that made it and by every other that hears its announcement, and within `ttlMs` by one
 * that did not.
 */
export class PersonalKeys {
  private readonly cache = new Map<string, CachedRing>();
  private readonly loading = new Map<string, Promise<KeyRing | undefined>>();
  /** Per tenant, how many times its keys were forgotten: a load that saw one begin is not kept. */
  private readonly forgotten = new Map<string, number>();

  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    private readonly vault: Pick<VaultProxyClient, 'createDataKey' | 'openDataKey'>,
    private readonly options: { readonly ttlMs: number; readonly maxCached: number },
    /** Tells the other replicas of an erasure (`gateway.keys.erased`), so they forget at once. */
    private readonly announce: (erased: {
      tenantId: string;
      userId?: string;
    }) => Promise<void> = () => Promise.resolve(),
    private readonly now: () => number = Date.now,
  ) {}

  /** The sealer of a person's values in a tenant, their key made if they have none yet. */
  forPerson(tenantId: string, userId: string): Promise<Sealer> {
    return this.sealer({ tenantId, scope: 'user', id: userId }, true);
  }

  /** The sealer of a tenant's own values (not one person's), its key made if needed. */
  forTenant(tenantId: string): Promise<Sealer> {
    return this.sealer({ tenantId, scope: 'tenant', id: tenantId }, true);
  }

  /**
   * The sealer to read what an owner's key sealed: without a stored key (erased, or never made)
   * it opens everything as ERASED and seals nothing.
   */
  reader(owner: KeyOwner): Promise<Sealer> {
    return this.sealer(owner, false);
  }

  /** Sealers for several owners at once (each fetched once), by `ownerKey`. */
  async readers(owners: Iterable<KeyOwner>): Promise<Map<string, Sealer>> {
    const distinct = new Map<string, KeyOwner>();
    for (const owner of owners) distinct.set(ownerKey(owner), owner);
    const sealers = await Promise.all([...distinct.values()].map((owner) => this.reader(owner)));
    return new Map(sealers.map((sealer) => [ownerKey(sealer.owner), sealer]));
  }

  /**
   * Drops, in the caller's transaction, the wrapped keys of a person in a tenant (or all of the
   * tenant's with no `userId`), leaving tombstones, and forgets them here. vault-proxy erases the
   * key-encryption keys; this removes what would be useless without them.
   */
  async erase(trx: Transaction<GatewayDatabase>, tenantId: string, userId?: string): Promise<void> {
    await useTenant(trx, tenantId);
    let query = trx
      .updateTable('data_keys')
      .set({ wrapped: null, erased_at: new Date() })
      .where('tenant_id', '=', tenantId)
      .where('wrapped', 'is not', null);
    if (userId !== undefined)
      query = query.where('scope', '=', 'user').where('owner_id', '=', userId);
    await query.execute();
    this.forget(tenantId, userId);
    // Forgetting early is harmless (the key-encryption key is gone already), so this need not wait
    // for the commit; lost, the other replicas' copies age out within `ttlMs`.
    await this.announce(userId === undefined ? { tenantId } : { tenantId, userId }).catch(
      () => undefined,
    );
  }

  /**
   * Forgets cached keys of a person in a tenant, or of the whole tenant, and any load of them
   * under way: a key unwrapped just before an erasure is neither kept nor handed out.
   */
  forget(tenantId: string, userId?: string): void {
    const matches = (key: string) => {
      const [tenant, scope, id] = key.split('/');
      return tenant === tenantId && (userId === undefined || (scope === 'user' && id === userId));
    };
    for (const key of this.cache.keys()) if (matches(key)) this.cache.delete(key);
    for (const flight of this.loading.keys()) if (matches(flight)) this.loading.delete(flight);
    this.forgotten.set(tenantId, (this.forgotten.get(tenantId) ?? 0) + 1);
  }

  private async sealer(owner: KeyOwner, create: boolean): Promise<Sealer> {
    const key = ownerKey(owner);
    const cached = this.cache.get(key);
    if (
      cached !== undefined &&
      cached.until > this.now() &&
      (cached.ring !== undefined || !create)
    ) {
      return new Sealer(owner, cached.ring, () => this.cache.delete(key));
    }
    for (;;) {
      const seen = this.forgotten.get(owner.tenantId);
      const ring = await this.flight(key, owner, create);
      // Forgotten while it loaded (an erasure here or announced): what it read may be erased.
      if (this.forgotten.get(owner.tenantId) !== seen) continue;
      this.remember(key, ring);
      return new Sealer(owner, ring, () => this.cache.delete(key));
    }
  }

  /** One load of an owner's key at a time on this replica, whoever asks. */
  private flight(key: string, owner: KeyOwner, create: boolean): Promise<KeyRing | undefined> {
    const flight = `${key}/${create ? 'create' : 'read'}`;
    let pending = this.loading.get(flight);
    if (pending === undefined) {
      const started: Promise<KeyRing | undefined> = this.load(owner, create).finally(() => {
        if (this.loading.get(flight) === started) this.loading.delete(flight);
      });
      pending = started;
      this.loading.set(flight, pending);
    }
    return pending;
  }

  private async load(owner: KeyOwner, create: boolean): Promise<KeyRing | undefined> {
    const stored = await this.stored(owner);
    const live = stored.filter((row) => row.wrapped !== null);
    if (live.length > 0) return this.open(owner, live);
    if (!create) return undefined;
    const made = await this.vault.createDataKey(owner.tenantId, {
      scope: owner.scope,
      id: owner.id,
    });
    // After an erasure, the next version: what the erased key sealed stays unreadable.
    const version = Math.max(0, ...stored.map((row) => row.version)) + 1;
    // Another replica may make one at the same moment: the first stored is everyone's.
    await withSettings(this.db, { 'app.tenant_id': owner.tenantId }, (trx) =>
      trx
        .insertInto('data_keys')
        .values({
          tenant_id: owner.tenantId,
          scope: owner.scope,
          owner_id: owner.id,
          version,
          wrapped: made.wrapped,
        })
        .onConflict((conflict) => conflict.doNothing())
        .execute(),
    );
    const now = (await this.stored(owner)).filter((row) => row.wrapped !== null);
    if (now.length === 1 && now[0]!.wrapped === made.wrapped) {
      return keyRing(new Map([[version, made.plaintext]]));
    }
    return this.open(owner, now);
  }

  private stored(owner: KeyOwner): Promise<{ version: number; wrapped: string | null }[]> {
    return withSettings(this.db, { 'app.tenant_id': owner.tenantId }, (trx) =>
      trx
        .selectFrom('data_keys')
        .select(['version', 'wrapped'])
        .where('tenant_id', '=', owner.tenantId)
        .where('scope', '=', owner.scope)
        .where('owner_id', '=', owner.id)
        .execute(),
    );
  }

  private async open(
    owner: KeyOwner,
    stored: readonly { version: number; wrapped: string | null }[],
  ): Promise<KeyRing | undefined> {
    try {
      const keys = await Promise.all(
        stored.map(
          async (row) =>
            [
              row.version,
              await this.vault.openDataKey(
                owner.tenantId,
                { scope: owner.scope, id: owner.id },
                row.wrapped!,
              ),
            ] as const,
        ),
      );
      return keyRing(new Map(keys));
    } catch (error) {
      // vault-proxy refuses to open a key whose owner was erased: what it sealed is gone.
      if (error instanceof ContractError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  private remember(key: string, ring: KeyRing | undefined): void {
    if (this.cache.size >= this.options.maxCached) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.delete(key);
    this.cache.set(key, { ring, until: this.now() + this.options.ttlMs });
  }
}

/** A map key for an owner. */
export function ownerKey(owner: KeyOwner): string {
  return `${owner.tenantId}/${owner.scope}/${owner.id}`;
}

/** A person's key owner within a tenant. */
export function personOwner(tenantId: string, userId: string): KeyOwner {
  return { tenantId, scope: 'user', id: userId };
}
