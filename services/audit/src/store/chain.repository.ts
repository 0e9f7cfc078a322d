import {
  GENESIS_HASH,
  TenantChain,
  type ChainHead,
  type EventColumns,
  type QuarantineReason,
} from '@heroagent/audit-chain';
import { sql, useTenant, type Kysely, type Transaction } from '@heroagent/db';
import { HEAD_COLUMNS, headOf } from './heads.js';
import type { QuarantineBudget } from './quarantine-budget.js';
import { quarantineWithin } from './quarantine.repository.js';
import type { AuditDatabase } from './tables.js';

/** An event that passed every check, ready to be chained. */
export interface VerifiedEvent {
  readonly columns: EventColumns;
  readonly canonical: string;
  readonly leafHash: Uint8Array;
  readonly receivedAt: Date;
}

/** An event refused with a reason; stored as its hash, size and a prefix, within budget. */
export interface QuarantinedEvent {
  readonly subject: string;
  readonly streamSeq: number | null;
  readonly tenantId?: string;
  readonly eventId?: string;
  readonly reason: QuarantineReason;
  readonly detail: string;
  readonly payload: Uint8Array;
}

/** What one committed batch did. */
export interface BatchOutcome {
  /** New head sequence per tenant that grew. */
  readonly heads: ReadonlyMap<string, number>;
  readonly appended: number;
  /** Redeliveries of events already stored: stored once, acknowledged again. */
  readonly duplicates: number;
  /** Everything quarantined by this batch, including ids reused with other content. */
  readonly quarantined: readonly QuarantinedEvent[];
  /** Refused events over the quarantine's budget: counted, not stored. */
  readonly dropped: readonly QuarantinedEvent[];
}

interface TenantOutcome {
  readonly appended: number;
  readonly duplicates: number;
  readonly conflicts: QuarantinedEvent[];
  readonly seq: number;
}

interface LaneOutcome {
  readonly tenants: Map<string, TenantOutcome>;
  readonly kept: readonly QuarantinedEvent[];
  readonly dropped: readonly QuarantinedEvent[];
}

/** Thrown inside a lane when an optimistic insert met an event id already stored. */
class DuplicateSeen extends Error {}

const INSERT_CHUNK = 1000;

/**
 * The write side of the store: appends verified events to tenants' chains. Tenants are spread over
 * `lanes` transactions that commit in parallel (chains are per tenant, so they never contend);
 * within a lane, tenants are taken in a fixed order, so replicas cannot deadlock. The caller
 * acknowledges nothing before every lane committed; a lane that committed before another failed
 * is harmless, because the redelivered events are then recognised as already stored.
 */
export class ChainRepository {
  constructor(
    private readonly db: Kysely<AuditDatabase>,
    private readonly lanes: number,
    private readonly quarantineBudget: QuarantineBudget,
  ) {}

  async appendBatch(
    events: readonly VerifiedEvent[],
    quarantined: readonly QuarantinedEvent[],
  ): Promise<BatchOutcome> {
    const byTenant = new Map<string, VerifiedEvent[]>();
    for (const event of events) {
      const list = byTenant.get(event.columns.tenantId) ?? [];
      list.push(event);
      byTenant.set(event.columns.tenantId, list);
    }
    const tenants = [...byTenant.keys()].sort();
    const lanes = Array.from(
      { length: Math.max(1, Math.min(this.lanes, tenants.length)) },
      () => [] as string[],
    );
    tenants.forEach((tenantId, index) => lanes[index % lanes.length]!.push(tenantId));
    const results = await Promise.all(
      lanes.map((lane, index) => this.commitLane(lane, byTenant, index === 0 ? quarantined : [])),
    );
    const heads = new Map<string, number>();
    const kept: QuarantinedEvent[] = [];
    const dropped: QuarantinedEvent[] = [];
    let appended = 0;
    let duplicates = 0;
    for (const lane of results) {
      kept.push(...lane.kept);
      dropped.push(...lane.dropped);
      for (const [tenantId, outcome] of lane.tenants) {
        appended += outcome.appended;
        duplicates += outcome.duplicates;
        if (outcome.appended > 0) heads.set(tenantId, outcome.seq);
      }
    }
    return { heads, appended, duplicates, quarantined: kept, dropped };
  }

  /**
   * One lane in one transaction. Inserts are optimistic (no lookup of already-stored ids); when a
   * redelivered event shows up, the lane is rolled back and redone checking every id first.
   */
  private async commitLane(
    tenants: readonly string[],
    byTenant: ReadonlyMap<string, VerifiedEvent[]>,
    quarantined: readonly QuarantinedEvent[],
  ): Promise<LaneOutcome> {
    try {
      return await this.runLane(tenants, byTenant, quarantined, false);
    } catch (error) {
      if (!(error instanceof DuplicateSeen)) throw error;
      return this.runLane(tenants, byTenant, quarantined, true);
    }
  }

  private async runLane(
    tenants: readonly string[],
    byTenant: ReadonlyMap<string, VerifiedEvent[]>,
    quarantined: readonly QuarantinedEvent[],
    careful: boolean,
  ): Promise<LaneOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const outcomes = new Map<string, TenantOutcome>();
      for (const tenantId of tenants)
        outcomes.set(
          tenantId,
          await this.appendTenant(trx, tenantId, byTenant.get(tenantId)!, careful),
        );
      const grown = [...outcomes].filter(([, outcome]) => outcome.appended > 0);
      if (grown.length > 0) {
        await trx
          .insertInto('tenant_activity')
          .values(
            grown.map(([tenantId, outcome]) => ({
              tenant_id: tenantId,
              seq: outcome.seq,
              checkpointed_seq: 0,
            })),
          )
          .onConflict((conflict) =>
            conflict
              .column('tenant_id')
              .doUpdateSet((eb) => ({ seq: eb.ref('excluded.seq'), updated_at: sql<Date>`now()` })),
          )
          .execute();
      }
      const refused = [
        ...quarantined,
        ...[...outcomes.values()].flatMap((outcome) => outcome.conflicts),
      ];
      const { kept, dropped } = await quarantineWithin(trx, refused, this.quarantineBudget);
      return { tenants: outcomes, kept, dropped };
    });
  }

  private async appendTenant(
    trx: Transaction<AuditDatabase>,
    tenantId: string,
    events: readonly VerifiedEvent[],
    careful: boolean,
  ): Promise<TenantOutcome> {
    await useTenant(trx, tenantId);
    // Creates the head on first use and locks it, in one statement.
    const head = await trx
      .insertInto('chain_heads')
      .values({
        tenant_id: tenantId,
        seq: 0,
        hash: GENESIS_HASH,
        frontier: Buffer.alloc(0),
        last_checkpoint_size: null,
        last_checkpoint_root: null,
        last_checkpoint_digest: null,
        last_checkpoint_at: null,
      })
      .onConflict((conflict) =>
        conflict
          .column('tenant_id')
          .doUpdateSet((eb) => ({ tenant_id: eb.ref('excluded.tenant_id') })),
      )
      .returning(HEAD_COLUMNS)
      .executeTakeFirstOrThrow();
    const conflicts: QuarantinedEvent[] = [];
    let chain: TenantChain;
    try {
      chain = new TenantChain(tenantId, headOf(head));
    } catch (error) {
      // A damaged head must not block every other tenant's events: this tenant's are set aside.
      const detail = `the chain head of tenant ${tenantId} is damaged: ${error instanceof Error ? error.message : 'unreadable'}`;
      for (const event of events)
        conflicts.push(quarantine(event, tenantId, 'CHAIN_CORRUPT', detail));
      return { appended: 0, duplicates: 0, conflicts, seq: head.seq };
    }
    const stored = careful
      ? await this.storedLeaves(trx, tenantId, events)
      : new Map<string, Buffer>();
    const rows: AuditDatabase['events'][] = [];
    let duplicates = 0;
    for (const event of events) {
      const { eventId } = event.columns;
      const leaf = Buffer.from(event.leafHash);
      const known = stored.get(eventId);
      if (known !== undefined) {
        if (known.equals(leaf)) duplicates += 1;
        else
          conflicts.push(
            quarantine(
              event,
              tenantId,
              'DUPLICATE_CONFLICT',
              `event id ${eventId} is already stored with other content`,
            ),
          );
        continue;
      }
      stored.set(eventId, leaf);
      const link = chain.appendCanonical(Buffer.from(event.canonical, 'utf8'), leaf);
      const { columns } = event;
      rows.push({
        tenant_id: tenantId,
        seq: link.seq,
        event_id: eventId,
        prev_hash: link.prevHash,
        hash: link.hash,
        leaf_hash: link.leafHash,
        envelope: event.canonical,
        occurred_at: columns.occurredAt,
        received_at: event.receivedAt,
        name: columns.name,
        source: columns.source,
        user_id: columns.userId,
        task_id: columns.taskId,
        action: columns.action,
        outcome: columns.outcome,
      });
    }
    const next = chain.head;
    for (let offset = 0; offset < rows.length; offset += INSERT_CHUNK) {
      const chunk = rows.slice(offset, offset + INSERT_CHUNK);
      const inserted =
        offset + INSERT_CHUNK < rows.length
          ? (await insertEvents(trx, chunk).execute()).length
          : await appendAndMoveHead(trx, tenantId, chunk, next);
      // An id already stored: the sequence numbers after it would have a gap. Redo carefully.
      if (inserted !== chunk.length) throw new DuplicateSeen();
    }
    return { appended: rows.length, duplicates, conflicts, seq: next.seq };
  }

  private async storedLeaves(
    trx: Transaction<AuditDatabase>,
    tenantId: string,
    events: readonly VerifiedEvent[],
  ) {
    const stored = new Map<string, Buffer>();
    const ids = [...new Set(events.map((event) => event.columns.eventId))];
    for (let offset = 0; offset < ids.length; offset += INSERT_CHUNK) {
      const rows = await trx
        .selectFrom('events')
        .select(['event_id', 'leaf_hash'])
        .where('tenant_id', '=', tenantId)
        .where('event_id', 'in', ids.slice(offset, offset + INSERT_CHUNK))
        .execute();
      for (const row of rows) stored.set(row.event_id, row.leaf_hash);
    }
    return stored;
  }
}

function quarantine(
  event: VerifiedEvent,
  tenantId: string,
  reason: QuarantineReason,
  detail: string,
): QuarantinedEvent {
  return {
    subject: `audit.events.${tenantId}`,
    streamSeq: null,
    tenantId,
    eventId: event.columns.eventId,
    reason,
    detail,
    payload: Buffer.from(event.canonical, 'utf8'),
  };
}

/** Inserts events, skipping ids already stored; returns the sequence numbers it did insert. */
function insertEvents(trx: Transaction<AuditDatabase>, rows: readonly AuditDatabase['events'][]) {
  return trx
    .insertInto('events')
    .values(rows)
    .onConflict((conflict) => conflict.columns(['tenant_id', 'event_id']).doNothing())
    .returning('seq');
}

/**
 * The chain append in one statement (one round trip per tenant per batch): the last events in,
 * and the head moved to `next`. Returns how many of `rows` were inserted; when an id was already
 * stored that is fewer, and the caller rolls the whole transaction back, head move included.
 */
async function appendAndMoveHead(
  trx: Transaction<AuditDatabase>,
  tenantId: string,
  rows: readonly AuditDatabase['events'][],
  next: ChainHead,
): Promise<number> {
  const moved = await trx
    .with('appended', () => insertEvents(trx, rows))
    .updateTable('chain_heads')
    .set({
      seq: next.seq,
      hash: next.hash,
      frontier: next.frontier.serialize(),
      updated_at: new Date(),
    })
    .where('tenant_id', '=', tenantId)
    .returning((eb) =>
      eb
        .selectFrom('appended')
        .select((counted) => counted.fn.countAll<string>().as('inserted'))
        .as('inserted'),
    )
    .executeTakeFirstOrThrow();
  return Number(moved.inserted);
}
