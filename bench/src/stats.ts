/** Latency figures of one series of samples, in the samples' own unit. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly min: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * The `p`th percentile (0–100) of `samples` by the nearest-rank method: the smallest sample that
 * at least `p`% of the samples are less than or equal to. It is always one of the samples.
 */
export function percentile(samples: readonly number[], p: number): number {
  return nearestRank(sortedCopy(samples), p);
}

/** Count, mean, min, p50, p99 and max of `samples`. */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = sortedCopy(samples);
  const sum = sorted.reduce((total, sample) => total + sample, 0);
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    min: sorted[0]!,
    p50: nearestRank(sorted, 50),
    p99: nearestRank(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}

function sortedCopy(samples: readonly number[]): number[] {
  if (samples.length === 0) throw new RangeError('no samples to summarize');
  if (!samples.every(Number.isFinite)) throw new RangeError('samples must be finite numbers');
  return [...samples].sort((a, b) => a - b);
}

function nearestRank(sorted: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not between 0 and 100`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
