import { randomUUID } from 'node:crypto';
import {
  AUDIT_EVENT_PURPOSE,
  signedAuditEventSchema,
  type AuditEvent,
  type SignedAuditEvent,
} from '@heroagent/contracts';
import { signJson, type SigningKey } from '@heroagent/crypto';
import { withSettings, type Kysely } from '@heroagent/db';
import { activeTraceId } from '@heroagent/telemetry';
import type { GatewayDatabase } from '../store-tables.js';

/** What a part of the gateway records; the recorder adds id, time, source, trace and signature. */
export type AuditRecord = Pick<AuditEvent, 'tenantId' | 'name' | 'actor' | 'outcome' | 'data'> &
  Partial<Pick<AuditEvent, 'userId' | 'rationale' | 'relatedEventId'>>;

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
  ) {}

  async record(record: AuditRecord): Promise<SignedAuditEvent> {
    const traceId = activeTraceId();
    const event: AuditEvent = {
      id: randomUUID(),
      occurredAt: this.now().toISOString(),
      source: 'gateway',
      ...record,
      ...(traceId === undefined ? {} : { traceId }),
    };
    const signed = signedAuditEventSchema.parse({
      event,
      signature: signJson(event, AUDIT_EVENT_PURPOSE, this.signingKey),
    });
    await withSettings(this.db, { 'app.tenant_id': record.tenantId }, (trx) =>
      trx
        .insertInto('audit_outbox')
        .values({ id: event.id, tenant_id: event.tenantId, envelope: JSON.stringify(signed) })
        .execute(),
    );
    this.onRecorded();
    return signed;
  }
}
