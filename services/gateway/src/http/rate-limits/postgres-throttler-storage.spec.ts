import { describe, expect, it } from 'vitest';
import { createLogger } from '@heroagent/telemetry';
import { Writable } from 'node:stream';
import { PostgresThrottlerStorage } from './postgres-throttler-storage.js';
import type { RateLimitsRepository } from './rate-limits.repository.js';

function storage(hit: RateLimitsRepository['hit'], clock: { now: number }) {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'gateway',
    level: 'warn',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const windows = { hit } as unknown as RateLimitsRepository;
  return { lines, store: new PostgresThrottlerStorage(windows, logger, () => clock.now) };
}

describe('PostgresThrottlerStorage', () => {
  it('blocks past the limit until the window ends', async () => {
    const clock = { now: 0 };
    const { store } = storage(() => Promise.resolve({ hits: 4, msLeft: 12_300 }), clock);
    expect(await store.increment('k', 60_000, 3, 60_000, 'default')).toEqual({
      totalHits: 4,
      timeToExpire: 13,
      isBlocked: true,
      timeToBlockExpire: 13,
    });
  });

  it('lets requests through uncounted while Postgres cannot count, warning once a minute', async () => {
    const clock = { now: 0 };
    const { store, lines } = storage(() => Promise.reject(new Error('connection refused')), clock);
    for (let index = 0; index < 3; index += 1) {
      expect(await store.increment('k', 60_000, 3, 60_000, 'default')).toMatchObject({
        isBlocked: false,
      });
    }
    expect(lines).toHaveLength(1);
    clock.now = 60_000;
    await store.increment('k', 60_000, 3, 60_000, 'default');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toMatchObject({
      code: 'RATE_LIMITS_UNAVAILABLE',
      notLoggedSinceLast: 2,
    });
  });
});
