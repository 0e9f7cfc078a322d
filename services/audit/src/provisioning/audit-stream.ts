import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { AUDIT_EVENT_MAX_BYTES } from '@heroagent/contracts';
import { auditProvisioningConfigSchema } from '../config.js';
import { AuditStreamError } from './provisioning.errors.js';

/** The JetStream stream that carries every tenant's audit events. */
export const AUDIT_STREAM = 'AUDIT_EVENTS';
/** The durable consumer the audit service ingests from. */
export const AUDIT_CONSUMER = 'audit-ingest';
/** The largest audit event the stream accepts (libs/contracts: producers refuse larger ones). */
export { AUDIT_EVENT_MAX_BYTES };

/** How the stream keeps events until audit has stored them. */
export interface AuditStreamOptions {
  readonly duplicateWindowMs: number;
  readonly maxAgeMs: number;
  /** The most the stream holds; past it, publishes are refused and wait in the gateway's outbox. */
  readonly maxBytes: number;
  readonly replicas: number;
  /** How long a delivered, unacknowledged message waits before redelivery (longer than a batch takes). */
  readonly ackWaitMs: number;
}

/** The stream as provisioned when no AUDIT_STREAM_* variable says otherwise. */
export const DEFAULT_AUDIT_STREAM: AuditStreamOptions = auditProvisioningConfigSchema.parse(
  {},
).stream;

/** What provisioning did. */
export interface ProvisionOutcome {
  readonly stream: 'created' | 'updated';
  readonly consumer: 'created' | 'updated';
}

const nanos = (ms: number) => ms * 1_000_000;

/**
 * Creates, or brings up to date, the audit stream and its durable consumer: run once at install
 * (and on upgrade) under the provisioning identity, never by the audit service. The stream is on
 * file storage, deduplicates on `Nats-Msg-Id` (the event id) within the window, refuses deletion
 * and purge through the API, takes no message over {@link AUDIT_EVENT_MAX_BYTES} and, once full,
 * refuses new events rather than dropping old ones (the gateway's outbox keeps them until there
 * is room). An update that would leave less room than the stream already holds is refused.
 */
export async function provisionAuditStream(
  connection: NatsConnection,
  options: AuditStreamOptions = DEFAULT_AUDIT_STREAM,
): Promise<ProvisionOutcome> {
  try {
    const manager = await jetstreamManager(connection);
    const stream = await upsertStream(manager, options);
    const consumer = await upsertConsumer(manager, options);
    return { stream, consumer };
  } catch (error) {
    throw asAuditStreamError(error);
  }
}

async function upsertStream(
  manager: JetStreamManager,
  options: AuditStreamOptions,
): Promise<ProvisionOutcome['stream']> {
  const config: Partial<StreamConfig> = {
    subjects: ['audit.events.*'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    duplicate_window: nanos(options.duplicateWindowMs),
    max_age: nanos(options.maxAgeMs),
    max_bytes: options.maxBytes,
    max_msg_size: AUDIT_EVENT_MAX_BYTES,
    num_replicas: options.replicas,
    deny_delete: true,
    deny_purge: true,
  };
  const existing = await manager.streams.info(AUDIT_STREAM).catch((error: unknown) => {
    if (error instanceof JetStreamApiError && error.status === 404) return undefined;
    throw error;
  });
  if (existing === undefined) {
    await manager.streams.add({ name: AUDIT_STREAM, ...config });
    return 'created';
  }
  if (existing.state.bytes > options.maxBytes) {
    throw new AuditStreamError(
      'AUDIT_STREAM_SHRINK_REFUSED',
      `${AUDIT_STREAM} holds ${existing.state.bytes} bytes, more than the ${options.maxBytes} asked for`,
    );
  }
  await manager.streams.update(AUDIT_STREAM, config);
  return 'updated';
}

async function upsertConsumer(
  manager: JetStreamManager,
  options: AuditStreamOptions,
): Promise<ProvisionOutcome['consumer']> {
  const settings = { ack_wait: nanos(options.ackWaitMs), max_ack_pending: 20_000 };
  const existing = await manager.consumers
    .info(AUDIT_STREAM, AUDIT_CONSUMER)
    .catch((error: unknown) => {
      if (error instanceof JetStreamApiError && error.status === 404) return undefined;
      throw error;
    });
  if (existing === undefined) {
    await manager.consumers.add(AUDIT_STREAM, {
      durable_name: AUDIT_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...settings,
    });
    return 'created';
  }
  await manager.consumers.update(AUDIT_STREAM, AUDIT_CONSUMER, settings);
  return 'updated';
}

/** A permission refusal becomes NATS_PERMISSION_DENIED; anything else is left as it is. */
export function asAuditStreamError(error: unknown): unknown {
  if (error instanceof AuditStreamError) return error;
  const chain: unknown[] = [error, (error as { cause?: unknown } | undefined)?.cause];
  const refusal = chain.find(
    (item) =>
      item instanceof Error &&
      (item.name === 'PermissionViolationError' || /permissions violation/i.test(item.message)),
  );
  if (refusal instanceof Error) {
    return new AuditStreamError(
      'NATS_PERMISSION_DENIED',
      `this NATS user may not manage ${AUDIT_STREAM} (${refusal.message.slice(0, 120)})`,
    );
  }
  return error;
}
