import { describe, expect, it } from 'vitest';
import { EXECUTOR_LOCK_NAMESPACE, executorLockKey } from './executor-lease.js';
import { outcomeUnknownError } from './outcome-unknown.js';

describe('executor leases and what a gone executor leaves', () => {
  it('keys a lease in its own namespace, in the lower case uuid::text writes', () => {
    const id = '0B5E0C1A-7F00-4E1A-9C3B-2D6A8E4F1B2C';
    expect(executorLockKey(id)).toBe(`gateway.replica:${id.toLowerCase()}`);
    expect(EXECUTOR_LOCK_NAMESPACE).toBe('gateway.replica:');
  });

  it('records an unknown outcome, saying why, as a failure upstream', () => {
    const gone = outcomeUnknownError('executor_gone');
    const stale = outcomeUnknownError('ran_too_long');
    expect(gone.code).toBe('UPSTREAM_FAILED');
    expect(stale.code).toBe('UPSTREAM_FAILED');
    expect(gone.message).toMatch(/^outcome unknown: the replica executing it stopped/);
    for (const error of [gone, stale]) {
      expect(error.message).toContain('whether it took effect is unknown');
    }
    expect(gone.message).not.toBe(stale.message);
  });
});
