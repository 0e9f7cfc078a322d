// Issue 15's goals for an action, judged from figures measured in one run: what the platform adds
// to the provider work (the action minus the same provider calls made directly with a token),
// compared with a raw NATS request/reply, and action throughput against raw pipelined NATS.
import type { LatencySummary } from './stats.js';

/** The most an action's overhead may be, in raw NATS request/replies, at p50 and p99. */
export const OVERHEAD_GOAL = { p50: 4, p99: 8 } as const;
/** The least share of raw pipelined NATS request/reply throughput an action must reach. */
export const THROUGHPUT_GOAL = 0.25;

/** One path's figures: latency percentiles (µs) and throughput (req/s). */
export interface PathFigures {
  readonly latency: Pick<LatencySummary, 'p50' | 'p99'>;
  readonly perSecond: number;
}

/** The three paths one kind of action (a read, a write) is judged on. */
export interface ActionFigures {
  readonly raw: PathFigures;
  readonly direct: PathFigures;
  readonly action: PathFigures;
}

/** One goal: the figure, its bound, and whether it was met. */
export interface GoalVerdict {
  readonly value: number;
  readonly goal: number;
  readonly met: boolean;
}

/** The overhead of an action and its three verdicts. */
export interface ActionVerdict {
  /** Action minus direct provider work, in µs, at p50 and p99 (a difference of percentiles). */
  readonly overhead: { readonly p50: number; readonly p99: number };
  /** Overhead ÷ raw NATS request/reply, at most {@link OVERHEAD_GOAL}. */
  readonly overheadRatio: { readonly p50: GoalVerdict; readonly p99: GoalVerdict };
  /** Action req/s ÷ raw NATS req/s, at least {@link THROUGHPUT_GOAL}. */
  readonly throughputShare: GoalVerdict;
}

/**
 * Judges one kind of action. The overhead at a percentile is the action's percentile minus the
 * direct provider work's (two separate series, so not the percentile of per-call differences); a
 * negative overhead is kept as it is, since it says the noise exceeds what the platform adds.
 */
export function judgeAction({ raw, direct, action }: ActionFigures): ActionVerdict {
  for (const [name, path] of Object.entries({ raw, direct, action })) {
    const figures = [path.latency.p50, path.latency.p99, path.perSecond];
    if (!figures.every((value) => Number.isFinite(value) && value > 0)) {
      throw new RangeError(`${name}: latencies and throughput must be positive numbers`);
    }
  }
  const overhead = {
    p50: action.latency.p50 - direct.latency.p50,
    p99: action.latency.p99 - direct.latency.p99,
  };
  const atMost = (value: number, goal: number): GoalVerdict => ({
    value,
    goal,
    met: value <= goal,
  });
  const share = action.perSecond / raw.perSecond;
  return {
    overhead,
    overheadRatio: {
      p50: atMost(overhead.p50 / raw.latency.p50, OVERHEAD_GOAL.p50),
      p99: atMost(overhead.p99 / raw.latency.p99, OVERHEAD_GOAL.p99),
    },
    throughputShare: { value: share, goal: THROUGHPUT_GOAL, met: share >= THROUGHPUT_GOAL },
  };
}

/** `pass` or `miss`, for a table cell. */
export const verdictWord = (verdict: GoalVerdict): string => (verdict.met ? 'pass' : 'miss');
