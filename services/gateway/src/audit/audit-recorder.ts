import { randomUUID } from 'node:crypto';
import {
  AUDIT_EVENT_MAX_BYTES,
  AUDIT_EVENT_PURPOSE,
  ContractError,
  signedAuditEventSchema,
  type AuditEvent,
  type ClientContext,
  type SignedAuditEvent,
} from '@heroagent/contracts';
import { signJson, type SigningKey } from '@heroagent/crypto';
import { useTenant, withSettings, type Kysely, type Transaction } from '@heroagent/db';
import { activeTraceId } from '@heroagent/telemetry';
import type { GatewayDatabase } from '../store-tables.js';

/**
 * What a part of the gateway records; the recorder adds time, source, trace and signature, and an
 * id unless the record brings one (an event that must be stored once, such as a receipt's).
 */
export type AuditRecord = Pick<AuditEvent, 'tenantId' | 'name' | 'actor' | 'outcome' | 'data'> &
  Partial<
    Pick<
      AuditEvent,
      'id' | 'userId' | 'taskId' | 'action' | 'rationale' | 'policy' | 'relatedEventId'
    >
  >;

/** Work done inside the transaction of a change, before it commits. */
export type InTransaction = (trx: Transaction<GatewayDatabase>) => Promise<void>;

/**
 * Records audit events through the gateway's outbox: each event is signed with the gateway's key
 * when it happens and stored in Postgres, and the relay publishes it to JetStream
 * (`audit.events.<tenant>`, `Nats-Msg-Id` = event id), so an event survives audit or NATS being
 * down and is stored once however often it is republished.
 */
export class AuditRecorder {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    private readonly signingKey: SigningKey,
    private readonly now: () => Date = () => new Date(),
    private readonly onRecorded: () => void = () => undefined,
    /** The HTTP client whose request is being served, if any (security evidence, in clear). */
    private readonly clientOf: () => ClientContext | undefined = () => undefined,
  ) {}

  /**
   * The event of a change made in the gateway's own database, written in the same transaction:
   * the change and its record commit together, or neither does.
   */
  within(record: AuditRecord): InTransaction & { readonly eventId: string } {
    const signed = this.sign(record);
    const write: InTransaction = async (trx) => {
      // Free when the change's transaction already runs as this tenant (the usual case).
      await useTenant(trx, record.tenantId);
      await trx
        .insertInto('audit_outbox')
        .values({
          id: signed.event.id,
          tenant_id: record.tenantId,
          envelope: JSON.stringify(signed),
        })
        .execute();
    };
    return Object.assign(write, { eventId: signed.event.id });
  }

  /** Publishes what was written (the relay also polls, so this only hastens it). */
  committed(): void {
    this.onRecorded();
  }

  /** The event of a change made elsewhere (in vault-proxy, say), in a transaction of its own. */
  async record(record: AuditRecord): Promise<SignedAuditEvent> {
    const signed = this.sign(record);
    await withSettings(this.db, { 'app.tenant_id': record.tenantId }, (trx) =>
      trx
        .insertInto('audit_outbox')
        .values({
          id: signed.event.id,
          tenant_id: record.tenantId,
          envelope: JSON.stringify(signed),
        })
        .execute(),
    );
    this.onRecorded();
    return signed;
  }

  private sign(record: AuditRecord): SignedAuditEvent {
    const traceId = activeTraceId();
    const client = this.clientOf();
    const event: AuditEvent = {
      id: randomUUID(),
      occurredAt: this.now().toISOString(),
      source: 'gateway',
      ...record,
      ...(traceId === undefined ? {} : { traceId }),
      ...(client === undefined ? {} : { client }),
    };
    const signed = signedAuditEventSchema.parse({
      event,
      signature: signJson(event, AUDIT_EVENT_PURPOSE, this.signingKey),
    });
    // The stream refuses a larger message, and one refused event would hold up the outbox behind
    // it: the change it records fails instead, so nothing happens without its record.
    if (Buffer.byteLength(JSON.stringify(signed)) > AUDIT_EVENT_MAX_BYTES) {
      throw new ContractError(
        'INTERNAL',
        `the audit event ${record.name} would be larger than ${AUDIT_EVENT_MAX_BYTES} bytes`,
      );
    }
    return signed;
  }
}
