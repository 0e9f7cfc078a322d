import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  type Consumer,
  type JetStreamClient,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { AUDIT_CONSUMER, AUDIT_STREAM, asAuditStreamError } from '../provisioning/audit-stream.js';
import { AuditStreamError } from '../provisioning/provisioning.errors.js';

/**
 * The durable consumer audit ingests from, as the provisioning step left it. The audit service
 * never creates or changes the stream or the consumer (its NATS user may not): when either is
 * missing this fails with AUDIT_STREAM_MISSING or AUDIT_CONSUMER_MISSING, saying what to run.
 */
export async function openAuditConsumer(connection: NatsConnection): Promise<Consumer> {
  const client: JetStreamClient = jetstream(connection);
  try {
    return await client.consumers.get(AUDIT_STREAM, AUDIT_CONSUMER);
  } catch (error) {
    const code = error instanceof JetStreamApiError ? error.code : undefined;
    if (code === JetStreamApiCodes.StreamNotFound) {
      throw new AuditStreamError(
        'AUDIT_STREAM_MISSING',
        `JetStream stream ${AUDIT_STREAM} does not exist: provision it (services/audit: node dist/src/provision.js as the provisioner)`,
      );
    }
    if (code === JetStreamApiCodes.ConsumerNotFound) {
      throw new AuditStreamError(
        'AUDIT_CONSUMER_MISSING',
        `consumer ${AUDIT_CONSUMER} of ${AUDIT_STREAM} does not exist: provision it (services/audit: node dist/src/provision.js as the provisioner)`,
      );
    }
    throw asAuditStreamError(error);
  }
}
