import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

/** The JetStream stream that carries every tenant's audit events. */
export const AUDIT_STREAM = 'AUDIT_EVENTS';
/** The durable consumer the audit service ingests from. */
export const AUDIT_CONSUMER = 'audit-ingest';

const nanos = (ms: number) => ms * 1_000_000;

/** How the stream keeps events until audit has stored them. */
export interface StreamOptions {
  readonly duplicateWindowMs: number;
  readonly maxAgeMs: number;
  readonly replicas: number;
  /** How long a delivered, unacknowledged message waits before redelivery (longer than a batch takes). */
  readonly ackWaitMs: number;
}

/**
 * Creates (or brings up to date) the audit stream and its durable consumer. The stream is on
 * file storage, deduplicates on `Nats-Msg-Id` (the event id) within the window, and refuses
 * deletion and purge of messages through the API.
 */
export async function ensureAuditStream(
  connection: NatsConnection,
  options: StreamOptions,
): Promise<JetStreamManager> {
  const manager = await jetstreamManager(connection);
  const config = {
    subjects: ['audit.events.*'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(options.duplicateWindowMs),
    max_age: nanos(options.maxAgeMs),
    num_replicas: options.replicas,
    deny_delete: true,
    deny_purge: true,
  };
  try {
    await manager.streams.info(AUDIT_STREAM);
    await manager.streams.update(AUDIT_STREAM, config);
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.status !== 404) throw error;
    await manager.streams.add({ name: AUDIT_STREAM, ...config });
  }
  const consumer = { ack_wait: nanos(options.ackWaitMs), max_ack_pending: 20_000 };
  try {
    await manager.consumers.info(AUDIT_STREAM, AUDIT_CONSUMER);
    await manager.consumers.update(AUDIT_STREAM, AUDIT_CONSUMER, consumer);
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.status !== 404) throw error;
    await manager.consumers.add(AUDIT_STREAM, {
      durable_name: AUDIT_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...consumer,
    });
  }
  return manager;
}
