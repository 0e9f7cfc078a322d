import { createHash } from 'node:crypto';
import { sql, type Transaction } from '@heroagent/db';
import type { QuarantinedEvent } from './chain.repository.js';
import {
  ALL_TENANTS_BUCKET,
  granted,
  tenantBucketOf,
  tokensAt,
  type QuarantineBudget,
} from './quarantine-budget.js';
import type { AuditDatabase } from './tables.js';

/** The most of a refused event's bytes kept, beside the hash and size of all of them. */
export const QUARANTINE_PREFIX_BYTES = 1024;

/** What became of a batch's refused events: kept (hash and prefix), or only counted. */
export interface QuarantineOutcome {
  readonly kept: readonly QuarantinedEvent[];
  readonly dropped: readonly QuarantinedEvent[];
}

interface BucketRow {
  bucket: string;
  tokens: number;
  refilled_at: Date;
  now: Date;
}

/**
 * Keeps refused events within budget, inside the caller's transaction: each draws a token from
 * the all-tenants bucket and from its tenant's, both in Postgres so that every audit replica
 * shares them; an event without tokens is only counted in its bucket's `dropped`. Buckets are
 * locked all-tenants first, then tenants in order, so replicas never wait on each other in a
 * cycle. A kept event is stored as the SHA-256 of its bytes, their size, and a 1 KiB prefix.
 */
export async function quarantineWithin(
  trx: Transaction<AuditDatabase>,
  items: readonly QuarantinedEvent[],
  budget: QuarantineBudget,
): Promise<QuarantineOutcome> {
  if (items.length === 0) return { kept: [], dropped: [] };
  const byBucket = new Map<string, QuarantinedEvent[]>();
  for (const item of items) {
    const bucket = tenantBucketOf(item.subject);
    byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), item]);
  }
  const tenantBuckets = [...byBucket.keys()].sort();
  const rows = await lockBuckets(trx, [ALL_TENANTS_BUCKET, ...tenantBuckets], budget);
  const all = rows.get(ALL_TENANTS_BUCKET)!;
  let allTokens = tokensAt(all.tokens, all.refilled_at, all.now, budget.totalPerMinute);
  const kept: QuarantinedEvent[] = [];
  const dropped: QuarantinedEvent[] = [];
  for (const bucket of tenantBuckets) {
    const wanted = byBucket.get(bucket)!;
    const row = rows.get(bucket)!;
    const tokens = tokensAt(row.tokens, row.refilled_at, row.now, budget.perTenantPerMinute);
    const count = granted(wanted.length, Math.min(tokens, allTokens));
    allTokens -= count;
    kept.push(...wanted.slice(0, count));
    dropped.push(...wanted.slice(count));
    await spend(trx, bucket, tokens - count, row.now, count, wanted.length - count);
  }
  await spend(trx, ALL_TENANTS_BUCKET, allTokens, all.now, kept.length, dropped.length);
  if (kept.length > 0) {
    await trx
      .insertInto('quarantine')
      .values(
        kept.map((item) => ({
          subject: item.subject,
          stream_seq: item.streamSeq,
          tenant_id: item.tenantId ?? null,
          event_id: item.eventId ?? null,
          reason: item.reason,
          detail: item.detail,
          payload: Buffer.from(item.payload.subarray(0, QUARANTINE_PREFIX_BYTES)),
          payload_sha256: createHash('sha256').update(item.payload).digest(),
          payload_bytes: item.payload.byteLength,
        })),
      )
      .execute();
  }
  return { kept, dropped };
}

async function lockBuckets(
  trx: Transaction<AuditDatabase>,
  buckets: readonly string[],
  budget: QuarantineBudget,
): Promise<Map<string, BucketRow>> {
  await trx
    .insertInto('quarantine_budget')
    .values(
      buckets.map((bucket) => ({
        bucket,
        tokens: bucket === ALL_TENANTS_BUCKET ? budget.totalPerMinute : budget.perTenantPerMinute,
        refilled_at: sql<Date>`now()`,
      })),
    )
    .onConflict((conflict) => conflict.column('bucket').doNothing())
    .execute();
  const rows = await trx
    .selectFrom('quarantine_budget')
    .select(['bucket', 'tokens', 'refilled_at', sql<Date>`now()`.as('now')])
    .where('bucket', 'in', buckets)
    // Byte order, as JavaScript sorted the insert above: one lock order everywhere.
    .orderBy(sql`bucket collate "C"`)
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.bucket, row]));
}

async function spend(
  trx: Transaction<AuditDatabase>,
  bucket: string,
  tokens: number,
  now: Date,
  kept: number,
  dropped: number,
): Promise<void> {
  await trx
    .updateTable('quarantine_budget')
    .set((eb) => ({
      tokens: Math.max(0, tokens),
      refilled_at: now,
      kept: eb('kept', '+', kept),
      dropped: eb('dropped', '+', dropped),
    }))
    .where('bucket', '=', bucket)
    .execute();
}
