import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditRecord, Viewer } from '@heroagent/contracts';
import type { PersonalKeys } from '../privacy/personal-keys.js';
import { ActivityPages } from './activity-pages.js';
import type { AuditRecordsClient } from './audit-records.client.js';

const viewer: Viewer = {
  tenantId: '00000000-0000-4000-8000-000000000001',
  userId: '00000000-0000-4000-8000-000000000002',
  role: 'auditor',
};
const hash = 'a'.repeat(64);

/** A tenant's record of `size` events, newest first; those `lunch` picks speak of lunch. */
function record(size: number, lunch: (seq: number) => boolean): AuditRecord[] {
  return Array.from({ length: size }, (_, index) => {
    const seq = size - index;
    return {
      seq,
      prevHash: hash,
      hash,
      receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      envelope: {
        event: {
          id: randomUUID(),
          tenantId: viewer.tenantId,
          occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
          name: 'action.executed',
          source: 'gateway',
          actor: { type: 'agent', id: 'task' },
          outcome: 'success',
          rationale: lunch(seq) ? `Booking lunch ${seq}` : `Filing ${seq}`,
          data: {},
        },
        signature: { kid: 'k', alg: 'Ed25519', sig: 'x' },
      },
    };
  });
}

/** Audit's query as the gateway sees it: pages of `limit`, newest first, an opaque cursor. */
function auditOf(records: readonly AuditRecord[]) {
  const asked: { limit: number; cursor?: string }[] = [];
  const client = {
    query: (input: { limit: number; cursor?: string }) => {
      asked.push({
        limit: input.limit,
        ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
      });
      const start = input.cursor === undefined ? 0 : Number(input.cursor.slice(1));
      const page = records.slice(start, start + input.limit);
      const next = start + input.limit < records.length ? `p${start + input.limit}` : undefined;
      return Promise.resolve({
        records: page,
        ...(next === undefined ? {} : { nextCursor: next }),
      });
    },
  } as unknown as AuditRecordsClient;
  return { client, asked };
}

const keys = { readers: () => Promise.resolve(new Map()) } as unknown as PersonalKeys;

describe('searching the activity log over opened pages', () => {
  it('pages through matches with its own cursor, none repeated, none skipped', async () => {
    const records = record(1000, (seq) => seq % 7 === 0);
    const pages = new ActivityPages(auditOf(records).client, keys);
    const seen: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await pages.page(viewer, { filter: { q: 'LUNCH' }, cursor, limit: 50 });
      seen.push(...page.records.map((found) => found.seq));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    const expected = records.filter((found) => found.seq % 7 === 0).map((found) => found.seq);
    expect(seen).toEqual(expected);
  });

  it('reads at most its scan limit per request, and says where to go on', async () => {
    // Only the oldest of a thousand matches: each request reads 300 at most, then hands on (and
    // asks audit for at most one step more: the rest of a page it stopped inside).
    const { client, asked } = auditOf(record(1000, (seq) => seq === 1));
    const pages = new ActivityPages(client, keys, 300);
    let cursor: string | undefined;
    const answers: number[][] = [];
    for (let step = 0; step < 10; step += 1) {
      const before = asked.reduce((sum, ask) => sum + ask.limit, 0);
      const page = await pages.page(viewer, { filter: { q: 'lunch' }, cursor, limit: 10 });
      expect(asked.reduce((sum, ask) => sum + ask.limit, 0) - before).toBeLessThanOrEqual(
        300 + 200,
      );
      answers.push(page.records.map((match) => match.seq));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(answers).toEqual([[], [], [], [1]]);
  });
});
