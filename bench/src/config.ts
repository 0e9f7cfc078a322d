import { z } from 'zod';
import {
  databaseEnvSchema,
  loadConfigOrExit,
  natsConfigOf,
  natsEnvSchema,
} from '@heroagent/service';

const count = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const envSchema = z.object({
  ...natsEnvSchema.shape,
  DATABASE_URL: databaseEnvSchema.shape.DATABASE_URL.default(
    'postgres://postgres@127.0.0.1:5432/postgres',
  ),
  /** Sequential requests timed one by one for the latency percentiles. */
  BENCH_REQUESTS: count(5_000, 100, 1_000_000),
  /** Untimed requests first, so the JIT, the connections and the subscriptions are warm. */
  BENCH_WARMUP: count(500, 0, 100_000),
  /** Requests kept in flight at once for the throughput figure. */
  BENCH_CONCURRENCY: count(32, 1, 1_024),
  /** Requests sent in all for the throughput figure. */
  BENCH_THROUGHPUT_REQUESTS: count(20_000, 100, 10_000_000),
  /** How long each in-process case (crypto, validation, logging, transactions) runs in all. */
  BENCH_CASE_MS: count(1_000, 50, 60_000),
  /** Turns the compared cases take, so noise on a shared machine falls on all of them alike. */
  BENCH_ROUNDS: count(5, 1, 100),
  /** Audit events in the backlog the audit service drains (per drain measured). */
  BENCH_AUDIT_EVENTS: count(20_000, 100, 1_000_000),
  /** Audit events per second published steadily for the publish→commit latency. */
  BENCH_AUDIT_RATE: count(2_000, 10, 100_000),
  /** How long the steady publishing for the latency lasts. */
  BENCH_AUDIT_LIVE_MS: count(5_000, 500, 600_000),
  /** `AUDIT_INGEST_BATCH` the audit service runs with (500 is its default). */
  BENCH_AUDIT_BATCH: count(500, 1, 4_000),
  /** Events in the bundle the offline verifier checks. */
  BENCH_VERIFY_EVENTS: count(20_000, 10, 10_000_000),
  /** Sequential actions timed end to end through the gateway (each writes to Postgres). */
  BENCH_ACTION_REQUESTS: count(300, 10, 100_000),
  /** Actions sent in all for the action throughput figure. */
  BENCH_ACTION_THROUGHPUT_REQUESTS: count(1_000, 10, 1_000_000),
});

/** What the benchmarks run with; every figure can be changed from the environment. */
export const benchConfigSchema = envSchema.transform((env) => ({
  nats: natsConfigOf(env),
  databaseUrl: env.DATABASE_URL,
  requests: env.BENCH_REQUESTS,
  warmup: env.BENCH_WARMUP,
  concurrency: env.BENCH_CONCURRENCY,
  throughputRequests: env.BENCH_THROUGHPUT_REQUESTS,
  caseMs: env.BENCH_CASE_MS,
  rounds: env.BENCH_ROUNDS,
  audit: {
    events: env.BENCH_AUDIT_EVENTS,
    rate: env.BENCH_AUDIT_RATE,
    liveMs: env.BENCH_AUDIT_LIVE_MS,
    ingestBatch: env.BENCH_AUDIT_BATCH,
    verifyEvents: env.BENCH_VERIFY_EVENTS,
  },
  action: {
    requests: env.BENCH_ACTION_REQUESTS,
    throughputRequests: env.BENCH_ACTION_THROUGHPUT_REQUESTS,
  },
}));
export type BenchConfig = z.output<typeof benchConfigSchema>;

/** Reads the environment once; a bad variable stops the run with its name. */
export function loadBenchConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): BenchConfig {
  return loadConfigOrExit('bench', benchConfigSchema, env);
}
