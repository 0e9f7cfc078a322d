import { createHash } from 'node:crypto';

/** How many refused events audit keeps a minute, per tenant and for all tenants together. */
export interface QuarantineBudget {
  readonly perTenantPerMinute: number;
  readonly totalPerMinute: number;
}

/** The bucket every refused event draws from, whatever its tenant. */
export const ALL_TENANTS_BUCKET = '*';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The tenant bucket of a refused event, from the tenant token of its subject
 * (`audit.events.<tenant>`): the subject, not the payload, since a refused payload may claim any
 * tenant. A token that is not a UUID is hashed, so an odd subject cannot make an odd key.
 */
export function tenantBucketOf(subject: string): string {
  const token = subject.split('.').slice(2).join('.');
  return UUID.test(token)
    ? `tenant:${token}`
    : `tenant:~${createHash('sha256').update(token).digest('hex').slice(0, 32)}`;
}

/**
 * A token bucket refilled continuously at `perMinute` a minute and holding at most `perMinute`:
 * the tokens there are at `now`, given what there were at `refilledAt`.
 */
export function tokensAt(tokens: number, refilledAt: Date, now: Date, perMinute: number): number {
  const elapsedMs = Math.max(0, now.getTime() - refilledAt.getTime());
  return Math.min(perMinute, tokens + (elapsedMs * perMinute) / 60_000);
}

/** How many of `wanted` a bucket holding `tokens` grants: whole tokens only. */
export function granted(wanted: number, tokens: number): number {
  return Math.max(0, Math.min(wanted, Math.floor(tokens)));
}
