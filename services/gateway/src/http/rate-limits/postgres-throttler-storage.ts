import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Logger } from '@heroagent/telemetry';
import type { RateLimitsRepository } from './rate-limits.repository.js';

/** What @nestjs/throttler's guard expects back from its storage for one request. */
interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

const WARN_EVERY_MS = 60_000;

/**
 * The throttler's storage in Postgres instead of the process's memory: every replica of the
 * gateway counts a client's requests in the same window, so a limit of N a minute lets N through
 * however the load balancer spreads them. The guard's key is the same on every replica (route
 * and client address, hashed; the address as `trust proxy` reads it, configured alike).
 *
 * When Postgres cannot count, the request is let through (and a warning logged at most once a
 * minute): every route that does anything needs Postgres and fails on its own, while the probes
 * keep telling the truth (`/healthz` alive, `/readyz` naming Postgres) instead of failing here.
 */
export class PostgresThrottlerStorage implements ThrottlerStorage {
  private lastWarned = Number.NEGATIVE_INFINITY;
  private unwarned = 0;

  constructor(
    private readonly windows: RateLimitsRepository,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    let window;
    try {
      window = await this.windows.hit(key, throttlerName, limit, ttl, blockDuration);
    } catch (error) {
      this.warn(error);
      return {
        totalHits: 0,
        timeToExpire: Math.ceil(ttl / 1000),
        isBlocked: false,
        timeToBlockExpire: 0,
      };
    }
    const secondsLeft = Math.max(0, Math.ceil(window.msLeft / 1000));
    const isBlocked = window.hits > limit;
    return {
      totalHits: window.hits,
      timeToExpire: secondsLeft,
      isBlocked,
      timeToBlockExpire: isBlocked ? secondsLeft : 0,
    };
  }

  private warn(error: unknown): void {
    const now = this.now();
    if (now - this.lastWarned < WARN_EVERY_MS) {
      this.unwarned += 1;
      return;
    }
    this.logger.warn(
      { code: 'RATE_LIMITS_UNAVAILABLE', err: String(error), notLoggedSinceLast: this.unwarned },
      'rate limits could not be counted in Postgres: requests let through uncounted',
    );
    this.lastWarned = now;
    this.unwarned = 0;
  }
}
