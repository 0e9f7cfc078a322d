import { isDeepStrictEqual } from 'node:util';
import { summarize, type LatencySummary } from './stats.js';
import { concurrentSeconds, sequentialLatencies, warmUp } from './timing.js';

/** One way of making a request, and what must be switched on around it. */
export interface RequestPath {
  readonly name: string;
  readonly call: () => Promise<unknown>;
  /** Runs before each of this path's turns, untimed (e.g. starting the tracing SDK). */
  readonly enter?: () => Promise<void> | void;
  /** Runs after each of this path's turns, untimed. */
  readonly leave?: () => Promise<void> | void;
  /** This path's sequential requests, instead of the plan's (e.g. more for a fast path). */
  readonly requests?: number;
  /** This path's requests for throughput, instead of the plan's. */
  readonly throughputRequests?: number;
}

/** How much to measure. Counts are split evenly over the rounds. */
export interface InterleavedPlan {
  /** What every path must answer; without it, each path's call checks its own answers. */
  readonly expected?: unknown;
  readonly warmup: number;
  readonly requests: number;
  readonly throughputRequests: number;
  readonly concurrency: number;
  readonly rounds: number;
}

/** Latency percentiles and throughput of one path. */
export interface PathResult {
  readonly name: string;
  readonly latency: LatencySummary;
  readonly perSecond: number;
}

/**
 * Measures every path in turns rather than one after the other: each round gives each path a share
 * of the sequential and of the concurrent requests, in a rotating order. On a shared machine a burst
 * of someone else's work then lands on all paths alike instead of on whichever ran at that moment.
 */
export async function measureInterleaved(
  paths: readonly RequestPath[],
  plan: InterleavedPlan,
  onRound: (round: number) => void = () => undefined,
): Promise<PathResult[]> {
  const latencies = paths.map((): number[] => []);
  const seconds = paths.map(() => 0);
  const perRound = paths.map((path) => ({
    sequential: Math.ceil((path.requests ?? plan.requests) / plan.rounds),
    concurrent: Math.ceil((path.throughputRequests ?? plan.throughputRequests) / plan.rounds),
  }));
  for (const path of paths) {
    await inTurn(path, async () => {
      const answer = await path.call();
      if ('expected' in plan && !isDeepStrictEqual(answer, plan.expected)) {
        throw new Error(`${path.name} answered ${JSON.stringify(answer)}, not the request`);
      }
      await warmUp(path.call, plan.warmup);
    });
  }
  for (let round = 0; round < plan.rounds; round += 1) {
    onRound(round + 1);
    for (let turn = 0; turn < paths.length; turn += 1) {
      const index = (round + turn) % paths.length;
      const path = paths[index]!;
      await inTurn(path, async () => {
        const { sequential, concurrent } = perRound[index]!;
        latencies[index]!.push(...(await sequentialLatencies(path.call, sequential)));
        seconds[index]! += await concurrentSeconds(path.call, concurrent, plan.concurrency);
      });
    }
  }
  return paths.map((path, index) => ({
    name: path.name,
    latency: summarize(latencies[index]!),
    perSecond: (perRound[index]!.concurrent * plan.rounds) / seconds[index]!,
  }));
}

async function inTurn(path: RequestPath, work: () => Promise<void>): Promise<void> {
  await path.enter?.();
  try {
    await work();
  } finally {
    await path.leave?.();
  }
}
