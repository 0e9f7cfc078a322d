import { describe, expect, it } from 'vitest';
import { percentile, summarize } from './stats.js';

describe('percentile', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, index) => index + 1);

  it('takes the nearest rank of 1..100', () => {
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile(oneToHundred, 0)).toBe(1);
  });

  it('sorts a shuffled copy and leaves the input as it was', () => {
    const samples = [9, 1, 7, 3, 5];
    expect(percentile(samples, 50)).toBe(5);
    expect(percentile(samples, 99)).toBe(9);
    expect(samples).toEqual([9, 1, 7, 3, 5]);
  });

  it('answers with a sample, never an interpolation', () => {
    expect(percentile([10, 20], 50)).toBe(10);
    expect(percentile([10, 20], 51)).toBe(20);
    expect(percentile([42], 99)).toBe(42);
  });

  it('lets one slow outlier show at p99 of a small series but not at p50', () => {
    const samples = [...Array<number>(99).fill(100), 10_000];
    expect(percentile(samples, 50)).toBe(100);
    expect(percentile(samples, 99)).toBe(100);
    expect(percentile([...samples, 10_000], 99)).toBe(10_000);
  });

  it('refuses no samples, a percentile outside 0..100 and samples that are not numbers', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1, 2], 101)).toThrow(/between 0 and 100/);
    expect(() => percentile([1, 2], -1)).toThrow(/between 0 and 100/);
    expect(() => percentile([1, 2], Number.NaN)).toThrow(/between 0 and 100/);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(/finite/);
  });
});

describe('summarize', () => {
  it('gives count, mean, min, p50, p99 and max', () => {
    const samples = Array.from({ length: 1000 }, (_, index) => 1000 - index);
    expect(summarize(samples)).toEqual({
      count: 1000,
      mean: 500.5,
      min: 1,
      p50: 500,
      p99: 990,
      max: 1000,
    });
  });

  it('refuses an empty series', () => {
    expect(() => summarize([])).toThrow('no samples to summarize');
  });
});
