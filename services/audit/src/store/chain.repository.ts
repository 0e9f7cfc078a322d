import {
  GENESIS_HASH,
  TenantChain,
  type EventColumns,
  type QuarantineReason,
} from '@heroagent/audit-chain';
import { useTenant, type Kysely, type Transaction } from '@heroagent/db';
import { headOf } from './heads.js';
import type { AuditDatabase } from './tables.js';

/** An event that passed every check, ready to be chained. */
export interface VerifiedEvent {
  readonly columns: EventColumns;
  readonly canonical: string;
  readonly leafHash: Uint8Array;
  readonly receivedAt: Date;
}

/** An event refused with a reason, kept whole for whoever investigates. */
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
}

const INSERT_CHUNK = 1000;

/** The write side of the store: appends verified events to tenants' chains, atomically per batch. */
export class ChainRepository {
  constructor(private readonly db: Kysely<AuditDatabase>) {}

  /**
   * In one transaction: for each tenant (in a fixed order, so concurrent replicas cannot deadlock)
   * lock its head, skip event ids already stored, chain the new events, and record the quarantine.
   * Nothing is acknowledged before this commits.
   */
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
    return this.db.transaction().execute(async (trx) => {
      const heads = new Map<string, number>();
      const refused: QuarantinedEvent[] = [...quarantined];
      let appended = 0;
      let duplicates = 0;
      for (const tenantId of [...byTenant.keys()].sort()) {
        const result = await this.appendTenant(trx, tenantId, byTenant.get(tenantId)!);
        appended += result.appended;
        duplicates += result.duplicates;
        refused.push(...result.conflicts);
        if (result.appended > 0) heads.set(tenantId, result.seq);
      }
      if (refused.length > 0) {
        await trx
          .insertInto('quarantine')
          .values(
            refused.map((item) => ({
              subject: item.subject,
              stream_seq: item.streamSeq,
              tenant_id: item.tenantId ?? null,
              event_id: item.eventId ?? null,
              reason: item.reason,
              detail: item.detail,
              payload: Buffer.from(
                item.payload.buffer,
                item.payload.byteOffset,
                item.payload.byteLength,
              ),
            })),
          )
          .execute();
      }
      return { heads, appended, duplicates, quarantined: refused };
    });
  }

  private async appendTenant(
    trx: Transaction<AuditDatabase>,
    tenantId: string,
    events: readonly VerifiedEvent[],
  ) {
    await useTenant(trx, tenantId);
    await trx
      .insertInto('chain_heads')
      .values({
        tenant_id: tenantId,
        seq: 0,
        hash: GENESIS_HASH,
        frontier: Buffer.alloc(0),
        last_checkpoint_size: null,
        last_checkpoint_root: null,
      })
      .onConflict((conflict) => conflict.column('tenant_id').doNothing())
      .execute();
    const head = await trx
      .selectFrom('chain_heads')
      .select(['seq', 'hash', 'frontier', 'last_checkpoint_size', 'last_checkpoint_root'])
      .where('tenant_id', '=', tenantId)
      .forUpdate()
      .executeTakeFirstOrThrow();
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
    const conflicts: QuarantinedEvent[] = [];
    let chain: TenantChain;
    try {
      chain = new TenantChain(tenantId, headOf(head));
    } catch (error) {
      // A damaged head must not block every other tenant's events: this tenant's are set aside.
      const detail = `the chain head of tenant ${tenantId} is damaged: ${error instanceof Error ? error.message : 'unreadable'}`;
      for (const event of events) {
        conflicts.push({
          subject: `audit.events.${tenantId}`,
          streamSeq: null,
          tenantId,
          eventId: event.columns.eventId,
          reason: 'CHAIN_CORRUPT',
          detail,
          payload: Buffer.from(event.canonical, 'utf8'),
        });
      }
      return { appended: 0, duplicates: 0, conflicts, seq: head.seq };
    }
    const rows: AuditDatabase['events'][] = [];
    let duplicates = 0;
    for (const event of events) {
      const { eventId } = event.columns;
      const leaf = Buffer.from(event.leafHash);
      const known = stored.get(eventId);
      if (known !== undefined) {
        if (known.equals(leaf)) {
          duplicates += 1;
        } else {
          conflicts.push({
            subject: `audit.events.${tenantId}`,
            streamSeq: null,
            tenantId,
            eventId,
            reason: 'DUPLICATE_CONFLICT',
            detail: `event id ${eventId} is already stored with other content`,
            payload: Buffer.from(event.canonical, 'utf8'),
          });
        }
        continue;
      }
      const link = chain.appendCanonical(Buffer.from(event.canonical, 'utf8'), leaf);
      stored.set(eventId, leaf);
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
    for (let offset = 0; offset < rows.length; offset += INSERT_CHUNK) {
      await trx
        .insertInto('events')
        .values(rows.slice(offset, offset + INSERT_CHUNK))
        .execute();
    }
    const next = chain.head;
    if (rows.length > 0) {
      await trx
        .updateTable('chain_heads')
        .set({
          seq: next.seq,
          hash: next.hash,
          frontier: next.frontier.serialize(),
          updated_at: new Date(),
        })
        .where('tenant_id', '=', tenantId)
        .execute();
      await trx
        .insertInto('tenant_activity')
        .values({ tenant_id: tenantId, seq: next.seq, checkpointed_seq: 0 })
        .onConflict((conflict) =>
          conflict.column('tenant_id').doUpdateSet({ seq: next.seq, updated_at: new Date() }),
        )
        .execute();
    }
    return { appended: rows.length, duplicates, conflicts, seq: next.seq };
  }
}
