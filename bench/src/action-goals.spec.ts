import { describe, expect, it } from 'vitest';
import { judgeAction, verdictWord, type ActionFigures } from './action-goals.js';

const path = (p50: number, p99: number, perSecond: number) => ({
  latency: { p50, p99 },
  perSecond,
});

describe('judgeAction', () => {
  it('takes the provider work from the action and compares what is left with raw NATS', () => {
    const verdict = judgeAction({
      raw: path(200, 1_000, 20_000),
      direct: path(3_000, 9_000, 2_000),
      action: path(3_600, 14_000, 6_000),
    });
    expect(verdict.overhead).toEqual({ p50: 600, p99: 5_000 });
    expect(verdict.overheadRatio.p50).toEqual({ value: 3, goal: 4, met: true });
    expect(verdict.overheadRatio.p99).toEqual({ value: 5, goal: 8, met: true });
    expect(verdict.throughputShare).toEqual({ value: 0.3, goal: 0.25, met: true });
  });

  it('meets a goal exactly at its bound and misses it just past', () => {
    const at: ActionFigures = {
      raw: path(100, 100, 1_000),
      direct: path(1_000, 2_000, 100),
      action: path(1_400, 2_800, 250),
    };
    const met = judgeAction(at);
    expect(
      [met.overheadRatio.p50, met.overheadRatio.p99, met.throughputShare].map(verdictWord),
    ).toEqual(['pass', 'pass', 'pass']);
    const missed = judgeAction({ ...at, action: path(1_401, 2_801, 249) });
    expect(
      [missed.overheadRatio.p50, missed.overheadRatio.p99, missed.throughputShare].map(verdictWord),
    ).toEqual(['miss', 'miss', 'miss']);
  });

  it('keeps a negative overhead, which says the noise exceeds what the platform adds', () => {
    const verdict = judgeAction({
      raw: path(100, 400, 1_000),
      direct: path(2_000, 5_000, 100),
      action: path(1_900, 6_000, 90),
    });
    expect(verdict.overhead.p50).toBe(-100);
    expect(verdict.overheadRatio.p50).toEqual({ value: -1, goal: 4, met: true });
  });

  it('refuses figures that are not positive numbers, naming the path', () => {
    const good = path(100, 200, 1_000);
    expect(() => judgeAction({ raw: path(0, 200, 1_000), direct: good, action: good })).toThrow(
      'raw: latencies and throughput must be positive numbers',
    );
    expect(() =>
      judgeAction({ raw: good, direct: path(100, Number.NaN, 1), action: good }),
    ).toThrow(/^direct:/);
    expect(() =>
      judgeAction({ raw: good, direct: good, action: path(100, 200, Number.POSITIVE_INFINITY) }),
    ).toThrow(/^action:/);
  });
});
