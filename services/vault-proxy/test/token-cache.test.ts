import { describe, expect, it } from 'vitest';
import { TokenCache } from '../src/tokens/token-cache.js';

const token = (expiresAt: number) => ({ accessToken: `ya29.${expiresAt}`, expiresAt, scopes: [] });

describe('the access-token cache', () => {
  it('serves a token only while it has more than the margin left', () => {
    let now = 1_000_000;
    const cache = new TokenCache(10, () => now);
    cache.set('c1 s', token(now + 300_000));
    expect(cache.fresh('c1 s', 120_000)?.accessToken).toBe(`ya29.${now + 300_000}`);
    now += 180_001;
    expect(cache.fresh('c1 s', 120_000)).toBeUndefined();
    expect(cache.fresh('c2 s', 0)).toBeUndefined();
  });

  it('stays within its bound: expired tokens go first, then the oldest stored', () => {
    const now = 1_000_000;
    const cache = new TokenCache(3, () => now);
    cache.set('a s', token(now + 60_000));
    cache.set('b s', token(now - 1));
    cache.set('c s', token(now + 60_000));
    cache.set('d s', token(now + 60_000));
    expect(cache.size).toBe(3);
    expect(cache.fresh('b s', 0)).toBeUndefined();
    expect(cache.fresh('a s', 0)).toBeDefined();
    cache.set('a s', token(now + 90_000)); // stored again: now the newest
    cache.set('e s', token(now + 60_000));
    expect(cache.size).toBe(3);
    expect(cache.fresh('c s', 0)).toBeUndefined();
    expect(['a s', 'd s', 'e s'].every((key) => cache.fresh(key, 0) !== undefined)).toBe(true);
  });

  it('drops every token of one connection and no other', () => {
    const now = 1_000_000;
    const cache = new TokenCache(10, () => now);
    cache.set('c1 mail', token(now + 60_000));
    cache.set('c1 calendar mail', token(now + 60_000));
    cache.set('c10 mail', token(now + 60_000));
    cache.dropConnection('c1');
    expect(cache.size).toBe(1);
    expect(cache.fresh('c10 mail', 0)).toBeDefined();
  });
});
