import { randomUUID } from 'node:crypto';
import { sql, withTenant, type Kysely } from '@heroagent/db';
import type { AuditDatabase } from '../store/tables.js';

type Row = AuditDatabase['siem_destinations'];
/** A destination as stored (headers still encrypted). */
export type StoredDestination = Omit<
  Row,
  | 'kind'
  | 'exported_through_seq'
  | 'checkpoints_through'
  | 'failures'
  | 'next_attempt_at'
  | 'created_at'
  | 'updated_at'
> & {
  kind: 'otlp' | 'webhook';
  exported_through_seq: number;
  checkpoints_through: number;
  failures: number;
  next_attempt_at: Date;
};

const COLUMNS = [
  'id',
  'tenant_id',
  'name',
  'endpoint',
  'encoding',
  'kind',
  'headers_ciphertext',
  'header_names',
  'enabled',
  'exported_through_seq',
  'checkpoints_through',
  'failures',
  'next_attempt_at',
  'last_success_at',
  'last_error',
] as const;

/** SIEM destinations and their export cursors, under each tenant's row-level security. */
export class SiemRepository {
  constructor(private readonly db: Kysely<AuditDatabase>) {}

  /** Creates a destination, or replaces the settings of an existing one (keeping its cursor). */
  async save(
    tenantId: string,
    destination: {
      id?: string;
      name: string;
      endpoint: string;
      encoding: 'json' | 'protobuf';
      kind: 'otlp' | 'webhook';
      headersCiphertext: (id: string) => string;
      headerNames: string[];
      enabled: boolean;
    },
  ): Promise<StoredDestination | undefined> {
    return withTenant(this.db, tenantId, async (trx) => {
      const id = destination.id ?? randomUUID();
      const values = {
        name: destination.name,
        endpoint: destination.endpoint,
        encoding: destination.encoding,
        kind: destination.kind,
        headers_ciphertext: destination.headersCiphertext(id),
        header_names: destination.headerNames,
        enabled: destination.enabled,
      };
      if (destination.id === undefined) {
        return trx
          .insertInto('siem_destinations')
          .values({ id, tenant_id: tenantId, ...values, last_success_at: null, last_error: null })
          .returning(COLUMNS)
          .executeTakeFirstOrThrow();
      }
      return trx
        .updateTable('siem_destinations')
        .set({ ...values, failures: 0, next_attempt_at: new Date(), updated_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .returning(COLUMNS)
        .executeTakeFirst();
    });
  }

  async list(tenantId: string): Promise<StoredDestination[]> {
    return withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('siem_destinations')
        .select(COLUMNS)
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at')
        .execute(),
    );
  }

  async get(tenantId: string, id: string): Promise<StoredDestination | undefined> {
    return withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('siem_destinations')
        .select(COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst(),
    );
  }

  async remove(tenantId: string, id: string): Promise<boolean> {
    const result = await withTenant(this.db, tenantId, (trx) =>
      trx
        .deleteFrom('siem_destinations')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  /** Enabled destinations of the tenant whose next attempt is due. */
  async due(tenantId: string, now: Date): Promise<StoredDestination[]> {
    return withTenant(this.db, tenantId, (trx) =>
      trx
        .selectFrom('siem_destinations')
        .select(COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where('enabled', '=', true)
        .where('next_attempt_at', '<=', now)
        .execute(),
    );
  }

  /**
   * Runs `stream` with the destination as it is now, if it is still enabled and due, as the only
   * streamer of it across every audit replica: under a Postgres advisory lock on the destination,
   * tried (not waited for) and held until `stream` returns. Answers false when another replica
   * holds it, so each batch is sent once, not once per replica.
   */
  async streamAlone(
    tenantId: string,
    id: string,
    now: Date,
    stream: (destination: StoredDestination) => Promise<void>,
  ): Promise<boolean> {
    return withTenant(this.db, tenantId, async (trx) => {
      const { rows } = await sql<{ held: boolean }>`
        select pg_try_advisory_xact_lock(hashtextextended(${`audit.siem.destination:${id}`}, 0)) as held`.execute(
        trx,
      );
      if (rows[0]?.held !== true) return false;
      const current = await trx
        .selectFrom('siem_destinations')
        .select(COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('enabled', '=', true)
        .where('next_attempt_at', '<=', now)
        .executeTakeFirst();
      if (current !== undefined) await stream(current);
      return true;
    });
  }

  /** Tenants with events: the only ones that can have anything to stream. */
  async activeTenants(): Promise<string[]> {
    return (await this.db.selectFrom('tenant_activity').select('tenant_id').execute()).map(
      (row) => row.tenant_id,
    );
  }

  async markDelivered(tenantId: string, id: string, throughSeq: number): Promise<void> {
    await withTenant(this.db, tenantId, (trx) =>
      trx
        .updateTable('siem_destinations')
        .set({
          exported_through_seq: throughSeq,
          failures: 0,
          last_success_at: new Date(),
          last_error: null,
          next_attempt_at: new Date(),
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('exported_through_seq', '<', throughSeq)
        .execute(),
    );
  }

  /** Moves the checkpoint delivery cursor forward (never back) after the receiver accepted. */
  async markCheckpointsDelivered(tenantId: string, id: string, through: number): Promise<void> {
    await withTenant(this.db, tenantId, (trx) =>
      trx
        .updateTable('siem_destinations')
        .set({
          checkpoints_through: through,
          failures: 0,
          last_success_at: new Date(),
          last_error: null,
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('checkpoints_through', '<', through)
        .execute(),
    );
  }

  async markFailed(
    tenantId: string,
    id: string,
    failures: number,
    nextAttemptAt: Date,
    error: string,
  ): Promise<void> {
    await withTenant(this.db, tenantId, (trx) =>
      trx
        .updateTable('siem_destinations')
        .set({ failures, next_attempt_at: nextAttemptAt, last_error: error.slice(0, 500) })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute(),
    );
  }
}
