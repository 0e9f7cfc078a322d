import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './revocation-worker.js';

describe('retryDelayMs', () => {
  it('doubles per attempt, jittered between half and all of it', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(retryDelayMs(3, 1000, 60_000, () => 1)).toBe(4000);
  });

  it('never waits longer than the maximum, however many attempts failed', () => {
    expect(retryDelayMs(1000, 1000, 60_000, () => 1)).toBe(60_000);
    expect(retryDelayMs(1000, 1000, 60_000, () => 0)).toBe(30_000);
  });
});
