import { ContractError, type AuditFilter } from '@heroagent/contracts';
import { sql, type Transaction } from '@heroagent/db';
import type { SelectQueryBuilder } from 'kysely';
import type { AuditDatabase } from './tables.js';

const EVENT_COLUMNS = ['seq', 'prev_hash', 'hash', 'received_at', 'envelope'] as const;

/** A row of the activity query, as `events` stores it. */
export interface ActivityRow {
  seq: number;
  prev_hash: Buffer;
  hash: Buffer;
  received_at: Date | string;
  envelope: string;
}

/**
 * How long one page may take in all. It answers people waiting in the console, and a search
 * without the trigram index (pg_trgm absent) scans: past this it is refused as TIMEOUT, before
 * the caller's own NATS timeout (5 s by default) gives up without a reason.
 */
export const ACTIVITY_TIMEOUT_MS = 4000;

/** Search matches read per round: the first round serves most pages, later ones grow. */
const FIRST_ROUND = 200;
const LARGEST_ROUND = 20_000;

/**
 * One page of the tenant's events, newest first, before `beforeSeq` when given. The filters are
 * columns with indexes; the free text `q` is matched by `tenant_event_search()`, a definer
 * function over the search table (migrations 20261126021500 and 20261127100000 say why not in
 * `events`, nor through a view): its matches are read newest first, in rounds that grow, and the
 * other filters applied to each round, until the page is full or the matches end.
 */
export async function queryActivity(
  trx: Transaction<AuditDatabase>,
  tenantId: string,
  filter: AuditFilter,
  beforeSeq: number | undefined,
  limit: number,
): Promise<ActivityRow[]> {
  await sql`select set_config('statement_timeout', ${String(ACTIVITY_TIMEOUT_MS)}, true)`.execute(
    trx,
  );
  if (filter.q === undefined) return filtered(trx, tenantId, filter, beforeSeq, undefined, limit);
  const pattern = containsPattern(filter.q);
  const deadline = Date.now() + ACTIVITY_TIMEOUT_MS;
  const page: ActivityRow[] = [];
  let before = beforeSeq;
  for (let round = FIRST_ROUND; page.length < limit; round = Math.min(round * 4, LARGEST_ROUND)) {
    const { rows: matches } = await sql<{ seq: number }>`
      select seq from tenant_event_search(${pattern}, ${before ?? null}::bigint,
        ${filter.userId ?? null}::uuid, ${round}) order by seq desc`.execute(trx);
    const seqs = matches.map((row) => row.seq);
    if (seqs.length === 0) break;
    page.push(...(await filtered(trx, tenantId, filter, undefined, seqs, limit - page.length)));
    if (seqs.length < round) break;
    before = seqs.at(-1);
    if (Date.now() > deadline) throw tooLong();
  }
  return page;
}

/** Events passing the column filters, among `seqs` when given. */
async function filtered(
  trx: Transaction<AuditDatabase>,
  tenantId: string,
  filter: AuditFilter,
  beforeSeq: number | undefined,
  seqs: readonly number[] | undefined,
  limit: number,
): Promise<ActivityRow[]> {
  const narrowed = <Q extends FilterableQuery>(query: Q): Q => {
    let where = query.where('tenant_id', '=', tenantId);
    if (beforeSeq !== undefined) where = where.where('seq', '<', beforeSeq);
    if (seqs !== undefined) where = where.where(sql<boolean>`seq = any(${seqs}::bigint[])`);
    if (filter.from !== undefined) where = where.where('occurred_at', '>=', filter.from);
    if (filter.to !== undefined) where = where.where('occurred_at', '<', filter.to);
    if (filter.userId !== undefined) where = where.where('user_id', '=', filter.userId);
    if (filter.action !== undefined) where = where.where('action', '=', filter.action);
    if (filter.name !== undefined) where = where.where('name', '=', filter.name);
    if (filter.outcome !== undefined) where = where.where('outcome', '=', filter.outcome);
    if (filter.taskId !== undefined) where = where.where('task_id', '=', filter.taskId);
    return where as Q;
  };
  const timed = filter.from !== undefined || filter.to !== undefined;
  if (!timed || seqs !== undefined) {
    return narrowed(trx.selectFrom('events').select(EVENT_COLUMNS))
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
  }
  // A time range: Postgres would walk the newest events backwards looking for the range (time
  // and seq go together, which it does not know), through every event after it. Ordering by
  // `seq + 0` makes it read the range from the time index instead (its entries carry seq).
  const inRange = narrowed(trx.selectFrom('events').select('seq'))
    .orderBy(sql`seq + 0`, 'desc')
    .limit(limit);
  return trx
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('seq', 'in', inRange)
    .orderBy('seq', 'desc')
    .execute();
}

type FilterableQuery = SelectQueryBuilder<AuditDatabase, 'events', object>;

/** `q` as an ILIKE pattern that matches it literally anywhere. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/** What a page that ran past its time becomes (Postgres cancels a statement with 57014). */
export function tooLong(): ContractError {
  return new ContractError(
    'TIMEOUT',
    'the query took too long: narrow it (a time range, a person, an action) or search for more specific text',
  );
}
