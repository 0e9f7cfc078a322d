import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessTokenCache, type TokenFor } from './access-token-cache.js';

const READ = 'https://www.googleapis.com/auth/gmail.readonly';
const SEND = 'https://www.googleapis.com/auth/gmail.send';
const MINUTE = 60_000;

function setUp(options: { maxAgeMs?: number; marginMs?: number; maxEntries?: number } = {}) {
  const clock = { now: 1_000_000 };
  const cache = new AccessTokenCache({
    maxAgeMs: options.maxAgeMs ?? 5 * MINUTE,
    marginMs: options.marginMs ?? MINUTE,
    ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }),
    now: () => clock.now,
  });
  cache.hearing();
  const request: TokenFor = {
    tenantId: randomUUID(),
    userId: randomUUID(),
    connectionId: randomUUID(),
    scopes: [READ],
  };
  const token = (lifeMs = 60 * MINUTE) => ({
    token: `ya29.${randomUUID()}`,
    expiresAt: new Date(clock.now + lifeMs).toISOString(),
    scopes: [READ],
  });
  return { clock, cache, request, token };
}

describe('AccessTokenCache', () => {
  it('serves a kept token only to the same tenant, person, connection and scopes', () => {
    const { cache, request, token } = setUp();
    const kept = token();
    cache.keep(request, kept, cache.mark());
    expect(cache.get(request)).toBe(kept);
    expect(cache.get({ ...request, scopes: [READ, READ] })).toBe(kept);
    expect(cache.get({ ...request, tenantId: randomUUID() })).toBeUndefined();
    expect(cache.get({ ...request, userId: randomUUID() })).toBeUndefined();
    expect(cache.get({ ...request, connectionId: randomUUID() })).toBeUndefined();
    expect(cache.get({ ...request, scopes: [SEND] })).toBeUndefined();
    expect(cache.get({ ...request, scopes: [READ, SEND] })).toBeUndefined();
  });

  it('stops serving a token at its real expiry minus the margin, and at its maximum age', () => {
    const short = setUp({ marginMs: MINUTE, maxAgeMs: 60 * MINUTE });
    short.cache.keep(short.request, short.token(3 * MINUTE), short.cache.mark());
    short.clock.now += 2 * MINUTE - 1;
    expect(short.cache.get(short.request)).toBeDefined();
    short.clock.now += 1;
    expect(short.cache.get(short.request)).toBeUndefined();

    const old = setUp({ maxAgeMs: 30_000 });
    old.cache.keep(old.request, old.token(), old.cache.mark());
    old.clock.now += 29_999;
    expect(old.cache.get(old.request)).toBeDefined();
    old.clock.now += 1;
    expect(old.cache.get(old.request)).toBeUndefined();
  });

  it('keeps nothing with a maximum age of 0, nothing already inside the margin, nothing before it hears changes', () => {
    const none = setUp({ maxAgeMs: 0 });
    none.cache.keep(none.request, none.token(), none.cache.mark());
    expect(none.cache.get(none.request)).toBeUndefined();

    const late = setUp({ marginMs: MINUTE });
    late.cache.keep(late.request, late.token(MINUTE), late.cache.mark());
    expect(late.cache.get(late.request)).toBeUndefined();

    const deaf = new AccessTokenCache({ maxAgeMs: MINUTE, marginMs: 0 });
    const { request, token } = setUp();
    deaf.keep(request, token(), deaf.mark());
    expect(deaf.get(request)).toBeUndefined();
  });

  it("drops every token of a changed connection, and only that connection's", () => {
    const { cache, request, token } = setUp();
    const other = { ...request, connectionId: randomUUID() };
    cache.keep(request, token(), cache.mark());
    cache.keep({ ...request, scopes: [SEND] }, token(), cache.mark());
    cache.keep(other, token(), cache.mark());
    cache.drop(request.connectionId);
    expect(cache.get(request)).toBeUndefined();
    expect(cache.get({ ...request, scopes: [SEND] })).toBeUndefined();
    expect(cache.get(other)).toBeDefined();
  });

  it('does not keep a token fetched while a change arrived (it may predate the change)', () => {
    const { cache, request, token } = setUp();
    const mark = cache.mark();
    // The change is heard while vault-proxy's answer is on its way.
    cache.drop(request.connectionId);
    cache.keep(request, token(), mark);
    expect(cache.get(request)).toBeUndefined();
    cache.keep(request, token(), cache.mark());
    expect(cache.get(request)).toBeDefined();
  });

  it('holds at most maxEntries tokens, dropping the oldest', () => {
    const { cache, request, token } = setUp({ maxEntries: 2 });
    const requests = [request, ...[1, 2].map(() => ({ ...request, connectionId: randomUUID() }))];
    for (const each of requests) cache.keep(each, token(), cache.mark());
    expect(cache.size).toBe(2);
    expect(cache.get(requests[0]!)).toBeUndefined();
    expect(cache.get(requests[2]!)).toBeDefined();
  });
});
