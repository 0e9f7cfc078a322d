import { z } from 'zod';
import {
  ContractError,
  type ActivityRecord,
  type AuditFilter,
  type AuditRecord,
  type Viewer,
} from '@heroagent/contracts';
import { openPersonalFields } from '../privacy/personal-fields.js';
import type { PersonalKeys } from '../privacy/personal-keys.js';
import { toActivityRecord } from './activity-view.js';
import type { AuditRecordsClient } from './audit-records.client.js';

/** The most records one searched page reads before it answers with where to go on. */
export const SEARCH_SCAN_LIMIT = 2_000;
/** How many records each step of a search asks audit for. */
const SEARCH_STEP = 200;

/** Where a search goes on: audit's page (absent: the newest) and the last record already read. */
const searchCursorSchema = z.strictObject({
  page: z.string().max(200).optional(),
  after: z.number().int().positive().optional(),
});
const SEARCH_CURSOR_PREFIX = 's1';

/**
 * The activity log, a page at a time, each record's personal fields opened for the viewer.
 *
 * Free-text search (`q`) runs here, over opened pages, not in audit: rationales and policy
 * reasons reach audit only sealed, so audit's index sees names and action types alone. Blind
 * indexes were the other way; they match whole words only, and leak which events share one to
 * anyone who reads the index. Here a search reads the viewer's records newest first, with
 * their other filters applied by audit, and matches `q` (case-insensitive) against each record's
 * name, action type, rationale and policy reason; it reads at most SEARCH_SCAN_LIMIT records per
 * request and answers with a cursor to go on, so a search over a narrow time range or one person
 * is quick, and one over a year of records is paged rather than slow.
 */
export class ActivityPages {
  constructor(
    private readonly records: AuditRecordsClient,
    private readonly keys: PersonalKeys,
    private readonly scanLimit: number = SEARCH_SCAN_LIMIT,
  ) {}

  async page(
    viewer: Viewer,
    query: { filter: AuditFilter; cursor: string | undefined; limit: number },
  ): Promise<{ records: ActivityRecord[]; nextCursor: string | null }> {
    const { q, ...filter } = query.filter;
    if (q === undefined) {
      const page = await this.records.query(
        { viewer, filter, limit: query.limit, ...cursorOf(query.cursor) },
        { cursor: 'query.cursor' },
      );
      return {
        records: await this.open(viewer, page.records),
        nextCursor: page.nextCursor ?? null,
      };
    }
    return this.search(viewer, filter, q.toLowerCase(), query);
  }

  private async search(
    viewer: Viewer,
    filter: Omit<AuditFilter, 'q'>,
    q: string,
    query: { cursor: string | undefined; limit: number },
  ) {
    let { page, after } = decodeSearchCursor(query.cursor);
    const matched: ActivityRecord[] = [];
    let scanned = 0;
    while (scanned < this.scanLimit) {
      const answer = await this.records.query(
        { viewer, filter, limit: SEARCH_STEP, ...cursorOf(page) },
        { cursor: 'query.cursor' },
      );
      const fresh = answer.records.filter((record) => after === undefined || record.seq < after);
      const opened = await this.open(viewer, fresh);
      for (const record of opened) {
        scanned += 1;
        after = record.seq;
        if (matches(record, q)) matched.push(record);
        if (matched.length === query.limit || scanned === this.scanLimit) {
          // Stopped inside audit's page: go on from it, after this record; at its end: the next.
          if (record !== opened.at(-1)) {
            return { records: matched, nextCursor: encodeSearchCursor({ page, after }) };
          }
          const next = answer.nextCursor;
          return {
            records: matched,
            nextCursor: next === undefined ? null : encodeSearchCursor({ page: next }),
          };
        }
      }
      if (answer.nextCursor === undefined) return { records: matched, nextCursor: null };
      page = answer.nextCursor;
      after = undefined;
    }
    return { records: matched, nextCursor: encodeSearchCursor({ page, after }) };
  }

  private async open(viewer: Viewer, records: readonly AuditRecord[]): Promise<ActivityRecord[]> {
    const opened = await openPersonalFields(
      this.keys,
      records.map((record) => record.envelope.event),
      viewer.tenantId,
    );
    return records.map((record) => toActivityRecord(record, opened.get(record.envelope.event.id)));
  }
}

function matches(record: ActivityRecord, q: string): boolean {
  return [record.name, record.action, record.rationale, record.policy?.reason].some(
    (text) => typeof text === 'string' && text.toLowerCase().includes(q),
  );
}

function cursorOf(cursor: string | undefined): { cursor?: string } {
  return cursor === undefined ? {} : { cursor };
}

function encodeSearchCursor(cursor: z.infer<typeof searchCursorSchema>): string {
  return `${SEARCH_CURSOR_PREFIX}${Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url')}`;
}

/** A search's own cursor (no cursor: from the newest record); anything else is refused. */
function decodeSearchCursor(cursor: string | undefined): z.infer<typeof searchCursorSchema> {
  if (cursor === undefined) return {};
  let json: unknown;
  try {
    if (!cursor.startsWith(SEARCH_CURSOR_PREFIX)) throw new Error('not a search cursor');
    json = JSON.parse(
      Buffer.from(cursor.slice(SEARCH_CURSOR_PREFIX.length), 'base64url').toString('utf8'),
    );
  } catch {
    json = undefined;
  }
  const parsed = searchCursorSchema.safeParse(json);
  if (!parsed.success) {
    throw new ContractError('INVALID_REQUEST', 'the cursor is not one this search issued', [
      { path: 'query.cursor', message: 'invalid' },
    ]);
  }
  return parsed.data;
}
