import { sql, type Kysely } from '@heroagent/db';
import type { GatewayDatabase } from '../../store-tables.js';

/** One client's standing against one limit, after counting a request. */
export interface RateLimitWindow {
  /** Requests counted in the window, this one included (at most `limit + 1`). */
  readonly hits: number;
  /** Milliseconds until the window (or the block that replaced it) ends. */
  readonly msLeft: number;
}

/**
 * The HTTP rate limits' windows in Postgres, so every replica counts against the same ones: a
 * request is counted, and its window read back, in one atomic statement.
 */
export class RateLimitsRepository {
  constructor(private readonly db: Kysely<GatewayDatabase>) {}

  /**
   * Counts one request against `key`'s window for `throttler`. A window lasts `ttlMs` from its
   * first request; the request that goes over `limit` extends it to end `blockMs` from then, and
   * the window after that starts afresh. Hits stop counting at `limit + 1`. Postgres's clock
   * decides, so replicas with skewed clocks agree.
   */
  async hit(
    key: string,
    throttler: string,
    limit: number,
    ttlMs: number,
    blockMs: number,
  ): Promise<RateLimitWindow> {
    const ttl = sql`(${ttlMs}::double precision * interval '1 millisecond')`;
    const block = sql`(${blockMs}::double precision * interval '1 millisecond')`;
    // One statement: concurrent requests on one key queue on its row, so none is lost.
    const { rows } = await sql<{ hits: number; ms_left: number }>`
      insert into http_rate_limits as r (key, throttler, hits, window_ends_at)
      values (${key}, ${throttler}, 1, now() + ${ttl})
      on conflict (key, throttler) do update set
        hits = case
          when r.window_ends_at <= now() then 1
          else least(r.hits + 1, ${limit}::integer + 1)
        end,
        window_ends_at = case
          when r.window_ends_at <= now() then now() + ${ttl}
          when r.hits = ${limit}::integer then greatest(r.window_ends_at, now() + ${block})
          else r.window_ends_at
        end
      returning hits, (extract(epoch from (window_ends_at - now())) * 1000)::double precision as ms_left
    `.execute(this.db);
    const row = rows[0]!;
    return { hits: row.hits, msLeft: Number(row.ms_left) };
  }

  /** Deletes the windows that ended before `now`; answers how many. */
  async purgeEnded(now: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('http_rate_limits')
      .where('window_ends_at', '<', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
