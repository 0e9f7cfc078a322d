/** An access token the gateway opened, as a connector uses it. */
export interface AccessToken {
  readonly token: string;
  /** The provider's real expiry (ISO 8601), as vault-proxy reported it. */
  readonly expiresAt: string;
  readonly scopes: string[];
}

/** What a token was issued for: the same four, and only those, may use it again. */
export interface TokenFor {
  readonly tenantId: string;
  readonly userId: string;
  readonly connectionId: string;
  readonly scopes: readonly string[];
}

/** How long this replica keeps what it opened. */
export interface AccessTokenCacheOptions {
  /** The longest a token is kept, whatever its expiry: the bound on a lost change event. 0: none. */
  readonly maxAgeMs: number;
  /** A token with less than this left is not used. */
  readonly marginMs: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly token: AccessToken;
  readonly connectionId: string;
  /** When it stops being served: its expiry minus the margin, or its maximum age. */
  readonly until: number;
}

/**
 * Access tokens this gateway replica opened, in memory only, so a repeated call skips the
 * vault-proxy hop. An entry serves only the tenant, person, connection and exact set of scopes it
 * was issued for, until its real expiry minus the margin and never longer than the maximum age.
 * Every change of a connection (revoked, erased, re-consented, broken) reaches every replica as
 * `vault.connections.changed` and drops its entries; a token fetched while such a change arrived
 * is handed to its one call but not kept (the change may be newer than the token). Nothing is
 * kept until the replica hears those changes ({@link hearing}).
 */
export class AccessTokenCache {
  private readonly entries = new Map<string, Entry>();
  private heard = false;
  /** Raised by every change heard: a fetch begun under an older one is not kept. */
  private changes = 0;
  private readonly now: () => number;

  constructor(private readonly options: AccessTokenCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** This replica now hears `vault.connections.changed`: it may keep tokens. */
  hearing(): void {
    this.heard = true;
  }

  /** The token kept for exactly this request, if it may still be used. */
  get(request: TokenFor): AccessToken | undefined {
    const key = keyOf(request);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > this.now()) return entry.token;
    this.entries.delete(key);
    return undefined;
  }

  /** Taken before asking vault-proxy; {@link keep} refuses the answer if a change came since. */
  mark(): number {
    return this.changes;
  }

  /** Keeps a token vault-proxy just issued for `request`, unless a change was heard since `mark`. */
  keep(request: TokenFor, token: AccessToken, mark: number): void {
    if (!this.heard || mark !== this.changes || this.options.maxAgeMs <= 0) return;
    const now = this.now();
    const until = Math.min(
      Date.parse(token.expiresAt) - this.options.marginMs,
      now + this.options.maxAgeMs,
    );
    if (!(until > now)) return;
    const key = keyOf(request);
    this.entries.delete(key);
    this.entries.set(key, { token, connectionId: request.connectionId, until });
    this.evict(now);
  }

  /** Forgets every token of a connection (a change event). */
  drop(connectionId: string): void {
    this.changes += 1;
    for (const [key, entry] of this.entries)
      if (entry.connectionId === connectionId) this.entries.delete(key);
  }

  /** Forgets every token (this replica may have missed changes). */
  clear(): void {
    this.changes += 1;
    this.entries.clear();
  }

  private evict(now: number): void {
    const max = this.options.maxEntries ?? 10_000;
    if (this.entries.size <= max) return;
    for (const [key, entry] of this.entries) if (entry.until <= now) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size <= max) break;
      this.entries.delete(key);
    }
  }
}

/** Scopes as a set: the same scopes in another order are the same request. */
function keyOf(request: TokenFor): string {
  const scopes = [...new Set(request.scopes)].sort().join(' ');
  return JSON.stringify([request.tenantId, request.userId, request.connectionId, scopes]);
}
