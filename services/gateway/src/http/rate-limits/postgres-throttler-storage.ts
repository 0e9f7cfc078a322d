import type { ThrottlerStorage } from '@nestjs/throttler';
import type { RateLimitsRepository } from './rate-limits.repository.js';

/** What @nestjs/throttler's guard expects back from its storage for one request. */
interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/**
 * The throttler's storage in Postgres instead of the process's memory: every replica of the
 * gateway counts a client's requests in the same window, so a limit of N a minute lets N through
 * however the load balancer spreads them. The guard's key is the same on every replica (route
 * and client address, hashed; the address as `trust proxy` reads it, configured alike).
 */
export class PostgresThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly windows: RateLimitsRepository) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const window = await this.windows.hit(key, throttlerName, limit, ttl, blockDuration);
    const secondsLeft = Math.max(0, Math.ceil(window.msLeft / 1000));
    const isBlocked = window.hits > limit;
    return {
      totalHits: window.hits,
      timeToExpire: secondsLeft,
      isBlocked,
      timeToBlockExpire: isBlocked ? secondsLeft : 0,
    };
  }
}
