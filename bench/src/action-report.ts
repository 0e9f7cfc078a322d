// How bench:action-roundtrip prints its figures.
import { judgeAction, verdictWord, type GoalVerdict } from './action-goals.js';
import type { PathResult } from './interleaved.js';
import { formatCount, formatMicros, formatRatio, printTable } from './report.js';

/** The measured paths of one run, by role. */
export interface ActionRun {
  readonly raw: PathResult;
  readonly kinds: readonly {
    /** `read` or `write`, with the action's type. */
    readonly label: string;
    readonly direct: PathResult;
    readonly action: PathResult;
  }[];
}

const bound = (sign: '≤' | '≥', verdict: GoalVerdict, show: (value: number) => string) =>
  `${sign} ${show(verdict.goal)} ${verdictWord(verdict)}`;
const signedMicros = (value: number) => `${value < 0 ? '-' : ''}${formatMicros(Math.abs(value))}`;
const percent = (value: number) => `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;

/** The latency and throughput of every path, then each kind of action against the goals. */
export function printActionRun(run: ActionRun): void {
  const paths = [run.raw, ...run.kinds.flatMap(({ direct, action }) => [direct, action])];
  printTable(
    ['path', 'p50 µs', 'p99 µs', 'mean µs', 'req/s'],
    paths.map(({ name, latency, perSecond }) => [
      name,
      formatMicros(latency.p50),
      formatMicros(latency.p99),
      formatMicros(latency.mean),
      formatCount(perSecond),
    ]),
  );
  console.log(
    '\noverhead = the action minus the same provider calls made directly with a token (p50 − p50,' +
      ' p99 − p99); ÷ raw = overhead ÷ the raw NATS request/reply at the same percentile;' +
      ' throughput: action req/s ÷ raw req/s, both with the same requests in flight',
  );
  printTable(
    [
      'action',
      'overhead p50 µs',
      '÷ raw p50',
      'goal',
      'overhead p99 µs',
      '÷ raw p99',
      'goal',
      'req/s ÷ raw',
      'goal',
    ],
    run.kinds.map(({ label, direct, action }) => {
      const verdict = judgeAction({ raw: run.raw, direct, action });
      return [
        label,
        signedMicros(verdict.overhead.p50),
        formatRatio(verdict.overheadRatio.p50.value),
        bound('≤', verdict.overheadRatio.p50, formatRatio),
        signedMicros(verdict.overhead.p99),
        formatRatio(verdict.overheadRatio.p99.value),
        bound('≤', verdict.overheadRatio.p99, formatRatio),
        percent(verdict.throughputShare.value),
        bound('≥', verdict.throughputShare, percent),
      ];
    }),
  );
}
