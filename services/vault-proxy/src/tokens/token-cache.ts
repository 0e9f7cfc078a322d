/** An access token held in memory, with its expiry (ms since the epoch). */
export interface CachedToken {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly scopes: string[];
}

/**
 * Access tokens in memory, bounded: past `max` entries the expired ones go first, then the least
 * recently stored, so a large tenant base cannot grow the process without limit. Keys start with
 * the connection id, so one connection's tokens can be dropped together.
 */
export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();

  constructor(
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The token under `key` if it has more than `marginMs` left. */
  fresh(key: string, marginMs: number): CachedToken | undefined {
    const cached = this.entries.get(key);
    return cached !== undefined && cached.expiresAt - marginMs > this.now() ? cached : undefined;
  }

  set(key: string, token: CachedToken): void {
    this.entries.delete(key);
    this.entries.set(key, token);
    if (this.entries.size <= this.max) return;
    const now = this.now();
    for (const [name, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(name);
    for (const name of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(name);
    }
  }

  /** Forgets every token of a connection. */
  dropConnection(connectionId: string): void {
    for (const key of this.entries.keys())
      if (key.startsWith(`${connectionId} `)) this.entries.delete(key);
  }
}
