import { describe, expect, it } from 'vitest';
import { granted, tenantBucketOf, tokensAt } from './quarantine-budget.js';

const at = (ms: number) => new Date(Date.UTC(2026, 10, 27) + ms);

describe('the quarantine’s token buckets', () => {
  it('refill at their rate a minute, up to one minute’s worth', () => {
    expect(tokensAt(0, at(0), at(0), 60)).toBe(0);
    expect(tokensAt(0, at(0), at(1_000), 60)).toBe(1);
    expect(tokensAt(2.5, at(0), at(30_000), 60)).toBe(32.5);
    expect(tokensAt(0, at(0), at(3_600_000), 60)).toBe(60);
    // A clock that went back (another replica's) refills nothing, and takes nothing away.
    expect(tokensAt(5, at(10_000), at(0), 60)).toBe(5);
  });

  it('grant whole tokens only, never more than wanted or held', () => {
    expect(granted(3, 10)).toBe(3);
    expect(granted(3, 2.9)).toBe(2);
    expect(granted(3, 0.99)).toBe(0);
    expect(granted(3, -1)).toBe(0);
  });

  it('key a tenant by its subject, and an odd subject by a hash of it', () => {
    const tenant = '7d1c3f2e-5b8a-4c6d-9e0f-1a2b3c4d5e6f';
    expect(tenantBucketOf(`audit.events.${tenant}`)).toBe(`tenant:${tenant}`);
    const odd = tenantBucketOf(`audit.events.${'x'.repeat(5000)}`);
    expect(odd).toMatch(/^tenant:~[0-9a-f]{32}$/);
    expect(tenantBucketOf('audit.events.y')).not.toBe(odd);
  });
});
