import { randomUUID } from 'node:crypto';
import {
  AUDIT_EVENT_MAX_BYTES,
  AUDIT_EVENT_PURPOSE,
  ContractError,
  personalFieldsContext,
  signedAuditEventSchema,
  type AuditEvent,
  type ClientContext,
  type PersonalFieldsContent,
  type SignedAuditEvent,
} from '@heroagent/contracts';
import { signJson, type SigningKey } from '@heroagent/crypto';
import { useTenant, withSettings, type Kysely, type Transaction } from '@heroagent/db';
import { activeTraceId } from '@heroagent/telemetry';
import type { PersonalKeys, Sealer } from '../privacy/personal-keys.js';
import type { GatewayDatabase } from '../store-tables.js';

/**
 * What a part of the gateway records; the recorder adds time, source, trace and signature, and an
 * id unless the record brings one (an event that must be stored once, such as a receipt's).
 * `rationale`, the policy's `reason` and `personal` details are sealed into the event's
 * encrypted personal fields (the key of `personalOf`, else of `userId`, else the tenant's): the
 * signed, chained part keeps ids, codes and counts.
 */
export type AuditRecord = Pick<AuditEvent, 'tenantId' | 'name' | 'actor' | 'outcome' | 'data'> &
  Partial<Pick<AuditEvent, 'id' | 'userId' | 'taskId' | 'action' | 'policy' | 'relatedEventId'>> & {
    readonly rationale?: string;
    readonly personal?: NonNullable<PersonalFieldsContent['details']>;
    /** Whose words the personal fields are, when not `userId`'s (an approver's note). */
    readonly personalOf?: string;
  };

/**
 * An event's id, time, trace and client, fixed when it is asked for, while the request is being
 * served (it is sealed and signed later, in the transaction).
 */
interface Stamp {
  readonly id: string;
  readonly occurredAt: string;
  readonly traceId: string | undefined;
  readonly client: ClientContext | undefined;
}

/** Work done inside the transaction of a change, before it commits. */
export type InTransaction = (trx: Transaction<GatewayDatabase>) => Promise<void>;

/** An event's row in the outbox, signed and sealed. */
export interface OutboxRow {
  readonly id: string;
  readonly tenant_id: string;
  /** The signed event, as JSON text. */
  readonly envelope: string;
}

/**
 * The event of a change: written by calling it in the change's transaction, or — by a statement
 * that writes the change and its event together, in one round trip — as its `outboxRow()`.
 */
export type RecordedChange = InTransaction & {
  readonly eventId: string;
  readonly outboxRow: () => Promise<OutboxRow>;
};

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
    /** The data keys that seal an event's personal fields. */
    private readonly keys: Pick<PersonalKeys, 'forPerson' | 'forTenant'>,
    private readonly now: () => Date = () => new Date(),
    private readonly onRecorded: () => void = () => undefined,
    /** The HTTP client whose request is being served, if any (security evidence, in clear). */
    private readonly clientOf: () => ClientContext | undefined = () => undefined,
  ) {}

  /**
   * The event of a change made in the gateway's own database, written in the same transaction:
   * the change and its record commit together, or neither does.
   */
  within(record: AuditRecord): RecordedChange {
    const stamp = this.stamp(record.id);
    // The key that seals its personal fields is fetched now, before the change's transaction
    // takes its locks: a miss asks vault-proxy, never while others wait on those locks.
    const sealing = this.sealerFor(record);
    sealing.catch(() => undefined);
    const outboxRow = async (): Promise<OutboxRow> => {
      const signed = this.sign(record, stamp, await sealing);
      return { id: signed.event.id, tenant_id: record.tenantId, envelope: JSON.stringify(signed) };
    };
    const write: InTransaction = async (trx) => {
      const row = await outboxRow();
      // Free when the change's transaction already runs as this tenant (the usual case).
      await useTenant(trx, record.tenantId);
      await trx.insertInto('audit_outbox').values(row).execute();
    };
    return Object.assign(write, { eventId: stamp.id, outboxRow });
  }

  /** Publishes what was written (the relay also polls, so this only hastens it). */
  committed(): void {
    this.onRecorded();
  }

  /** The event of a change made elsewhere (in vault-proxy, say), in a transaction of its own. */
  async record(record: AuditRecord): Promise<SignedAuditEvent> {
    const signed = this.sign(record, this.stamp(record.id), await this.sealerFor(record));
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

  private stamp(id: string | undefined): Stamp {
    return {
      id: id ?? randomUUID(),
      occurredAt: this.now().toISOString(),
      traceId: activeTraceId(),
      client: this.clientOf(),
    };
  }

  /** The sealer of a record's personal fields, if it has any. */
  private async sealerFor(record: AuditRecord): Promise<Sealer | undefined> {
    const personal =
      record.rationale !== undefined ||
      record.policy?.reason !== undefined ||
      record.personal !== undefined;
    if (!personal) return undefined;
    const writer = record.personalOf ?? record.userId;
    return writer === undefined
      ? this.keys.forTenant(record.tenantId)
      : this.keys.forPerson(record.tenantId, writer);
  }

  private sign(record: AuditRecord, stamp: Stamp, sealer: Sealer | undefined): SignedAuditEvent {
    const { id: _id, rationale, policy, personal, personalOf: _of, ...rest } = record;
    const event: AuditEvent = {
      id: stamp.id,
      occurredAt: stamp.occurredAt,
      source: 'gateway',
      ...rest,
      ...(policy === undefined
        ? {}
        : { policy: { effect: policy.effect, policyId: policy.policyId } }),
      ...(stamp.traceId === undefined ? {} : { traceId: stamp.traceId }),
      ...(stamp.client === undefined ? {} : { client: stamp.client }),
    };
    const content: PersonalFieldsContent = {
      ...(rationale === undefined ? {} : { rationale }),
      ...(policy?.reason === undefined ? {} : { policyReason: policy.reason }),
      ...(personal === undefined ? {} : { details: personal }),
    };
    if (Object.keys(content).length > 0 && sealer !== undefined) {
      // A sealer without a key (erased while this event was made) seals nothing: the words go
      // unrecorded. (A person's later event makes them a new key: what the old one sealed stays gone.)
      if (!sealer.erased) {
        event.personal = {
          key: { scope: sealer.owner.scope, id: sealer.owner.id, version: sealer.version },
          ciphertext: sealer.seal(personalFieldsContext(stamp.id), JSON.stringify(content)),
        };
      }
    }
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
