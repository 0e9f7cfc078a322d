import type { AuditFilter, SignedCheckpoint } from '@heroagent/contracts';
import { withTenant, type Kysely } from '@heroagent/db';
import { queryActivity, tooLong } from './activity-query.js';
import type { AuditDatabase } from './tables.js';

/** A stored event as the read side returns it. */
export interface StoredEvent {
  readonly seq: number;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
  readonly receivedAt: Date;
  /** The canonical JSON of the signed envelope, exactly as chained. */
  readonly envelope: string;
}

const EVENT_COLUMNS = ['seq', 'prev_hash', 'hash', 'received_at', 'envelope'] as const;

function toStored(row: {
  seq: number;
  prev_hash: Buffer;
  hash: Buffer;
  received_at: Date | string;
  envelope: string;
}): StoredEvent {
  return {
    seq: row.seq,
    prevHash: row.prev_hash,
    hash: row.hash,
    receivedAt: new Date(row.received_at),
    envelope: row.envelope,
  };
}

/** The read side of the store. Every query runs under the tenant's row-level security. */
export class RecordsRepository {
  constructor(private readonly db: Kysely<AuditDatabase>) {}

  /** A page of records, newest first, before `beforeSeq` when given. */
  async query(
    tenantId: string,
    filter: AuditFilter,
    beforeSeq: number | undefined,
    limit: number,
  ): Promise<StoredEvent[]> {
    try {
      const rows = await withTenant(this.db, tenantId, (trx) =>
        queryActivity(trx, tenantId, filter, beforeSeq, limit),
      );
      return rows.map(toStored);
    } catch (error) {
      if ((error as { code?: unknown }).code === '57014') throw tooLong();
      throw error;
    }
  }

  /** Events `fromSeq..toSeq` in chain order, read in chunks. */
  async *events(
    tenantId: string,
    fromSeq: number,
    toSeq: number,
    chunk = 1000,
  ): AsyncGenerator<StoredEvent> {
    for (let start = fromSeq; start <= toSeq; start += chunk) {
      const end = Math.min(toSeq, start + chunk - 1);
      const rows = await withTenant(this.db, tenantId, (trx) =>
        trx
          .selectFrom('events')
          .select(EVENT_COLUMNS)
          .where('tenant_id', '=', tenantId)
          .where('seq', '>=', start)
          .where('seq', '<=', end)
          .orderBy('seq')
          .execute(),
      );
      for (const row of rows) yield toStored(row);
    }
  }

  /** The tenant's current chain length. */
  async headSeq(tenantId: string): Promise<number> {
    const row = await withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('chain_heads')
        .select('seq')
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst(),
    );
    return row?.seq ?? 0;
  }

  /** Where an event sits, and whose it is. */
  async locate(
    tenantId: string,
    eventId: string,
  ): Promise<{ seq: number; userId: string | null; leafHash: Buffer } | undefined> {
    const row = await withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('events')
        .select(['seq', 'user_id', 'leaf_hash'])
        .where('tenant_id', '=', tenantId)
        .where('event_id', '=', eventId)
        .executeTakeFirst(),
    );
    return row === undefined
      ? undefined
      : { seq: row.seq, userId: row.user_id, leafHash: row.leaf_hash };
  }

  /** The leaf hashes of the first `size` events. */
  async leafHashes(tenantId: string, size: number): Promise<Buffer[]> {
    const leaves: Buffer[] = [];
    const chunk = 50_000;
    for (let start = 1; start <= size; start += chunk) {
      const rows = await withTenant(this.db, tenantId, (trx) =>
        trx
          .selectFrom('events')
          .select('leaf_hash')
          .where('tenant_id', '=', tenantId)
          .where('seq', '>=', start)
          .where('seq', '<=', Math.min(size, start + chunk - 1))
          .orderBy('seq')
          .execute(),
      );
      for (const row of rows) leaves.push(row.leaf_hash);
    }
    return leaves;
  }

  /** Signed checkpoints with tree size in `(after, upTo]`, oldest first. */
  async checkpointsBetween(
    tenantId: string,
    after: number,
    upTo: number,
  ): Promise<SignedCheckpoint[]> {
    const rows = await withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('checkpoints')
        .select(['payload', 'kid', 'signature'])
        .where('tenant_id', '=', tenantId)
        .where('tree_size', '>', after)
        .where('tree_size', '<=', upTo)
        .orderBy('checkpoint_index')
        .execute(),
    );
    return rows.map(toCheckpoint);
  }

  /**
   * The checkpoints by number from the first one of at least `start.size` events (or from number
   * `start.number`) through `last`, the oldest `limit` of them.
   */
  async checkpointSequence(
    tenantId: string,
    start: { readonly size: number } | { readonly number: number },
    last: SignedCheckpoint,
    limit: number,
  ): Promise<SignedCheckpoint[]> {
    const { checkpoint } = last;
    const rows = await withTenant(this.db, tenantId, async (trx) => {
      // A version 1 checkpoint carries no number, but it was the only one of its size.
      const through =
        checkpoint.v === 2
          ? checkpoint.index
          : (
              await trx
                .selectFrom('checkpoints')
                .select('checkpoint_index')
                .where('tenant_id', '=', tenantId)
                .where('tree_size', '=', checkpoint.treeSize)
                .orderBy('checkpoint_index')
                .executeTakeFirstOrThrow()
            ).checkpoint_index;
      return trx
        .selectFrom('checkpoints')
        .select(['payload', 'kid', 'signature'])
        .where('tenant_id', '=', tenantId)
        .where('checkpoint_index', '>=', (eb) =>
          'number' in start
            ? eb.val(start.number)
            : eb
                .selectFrom('checkpoints')
                .select((inner) => inner.fn.min('checkpoint_index').as('first'))
                .where('tenant_id', '=', tenantId)
                .where('tree_size', '>=', start.size),
        )
        .where('checkpoint_index', '<=', through)
        .orderBy('checkpoint_index')
        .limit(limit)
        .execute();
    });
    return rows.map(toCheckpoint);
  }

  /**
   * Checkpoints numbered after `afterIndex` over at most `maxTreeSize` events, by number, the
   * first `limit` of them (what a destination has yet to receive).
   */
  async checkpointsAfter(
    tenantId: string,
    afterIndex: number,
    maxTreeSize: number,
    limit: number,
  ): Promise<{ index: number; signed: SignedCheckpoint }[]> {
    const rows = await withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('checkpoints')
        .select(['checkpoint_index', 'payload', 'kid', 'signature'])
        .where('tenant_id', '=', tenantId)
        .where('checkpoint_index', '>', afterIndex)
        .where('tree_size', '<=', maxTreeSize)
        .orderBy('checkpoint_index')
        .limit(limit)
        .execute(),
    );
    return rows.map((row) => ({ index: row.checkpoint_index, signed: toCheckpoint(row) }));
  }

  /** The newest checkpoints first. */
  async latestCheckpoints(tenantId: string, limit: number): Promise<SignedCheckpoint[]> {
    const rows = await withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('checkpoints')
        .select(['payload', 'kid', 'signature'])
        .where('tenant_id', '=', tenantId)
        .orderBy('checkpoint_index', 'desc')
        .limit(limit)
        .execute(),
    );
    return rows.map(toCheckpoint);
  }

  /**
   * The checkpoint at exactly `treeSize` (the latest of that size: an idle tenant re-signs it),
   * or the first one covering `treeSize` events.
   */
  async checkpoint(
    tenantId: string,
    treeSize: number,
    exact: boolean,
  ): Promise<SignedCheckpoint | undefined> {
    const row = await withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('checkpoints')
        .select(['payload', 'kid', 'signature'])
        .where('tenant_id', '=', tenantId)
        .where('tree_size', exact ? '=' : '>=', treeSize)
        .orderBy('checkpoint_index', exact ? 'desc' : 'asc')
        .limit(1)
        .executeTakeFirst(),
    );
    return row === undefined ? undefined : toCheckpoint(row);
  }
}

function toCheckpoint(row: { payload: string; kid: string; signature: string }): SignedCheckpoint {
  return {
    checkpoint: JSON.parse(row.payload) as SignedCheckpoint['checkpoint'],
    signature: { alg: 'Ed25519', kid: row.kid, sig: row.signature },
  };
}
