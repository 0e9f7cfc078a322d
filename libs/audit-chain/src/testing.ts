import { randomUUID } from 'node:crypto';
import {
  AUDIT_EVENT_PURPOSE,
  type AuditEvent,
  type ServiceName,
  type SignedAuditEvent,
  type SignedCheckpoint,
} from '@heroagent/contracts';
import { exportEd25519PublicKey, signJson, toBase64Url, type SigningKey } from '@heroagent/crypto';
import { bundleLines, type BundleKey } from './bundle.js';
import { TenantChain, type AppendedRecord } from './chain.js';

/** A signed audit event for tests and benchmarks; `overrides` replace fields of the event. */
export function signedTestEvent(
  key: SigningKey,
  tenantId: string,
  overrides: Partial<AuditEvent> = {},
): SignedAuditEvent {
  const event: AuditEvent = {
    id: randomUUID(),
    tenantId,
    occurredAt: new Date().toISOString(),
    name: 'action.executed',
    source: 'gateway',
    actor: { type: 'agent', id: 'agent' },
    userId: randomUUID(),
    taskId: randomUUID(),
    action: 'calendar.events.create',
    outcome: 'success',
    rationale: 'Bob is free on Tuesday at noon; inviting him as asked.',
    policy: {
      effect: 'allow',
      policyId: 'tenant-default',
      reason: 'writes to own calendar are allowed',
    },
    data: { calendarId: 'primary', durationMinutes: 30 },
    ...overrides,
  };
  return { event, signature: signJson(event, AUDIT_EVENT_PURPOSE, key) };
}

/** The key line of a bundle for `key`, valid from the epoch. */
export function bundleKeyOf(
  key: SigningKey,
  service: ServiceName,
): Omit<BundleKey, 'type' | 'alg'> {
  return {
    kid: key.kid,
    service,
    publicKey: toBase64Url(exportEd25519PublicKey(key.publicKey)),
    notBefore: '2000-01-01T00:00:00.000Z',
  };
}

/** A valid bundle of `count` events with a checkpoint every `checkpointEvery` and one at the end. */
export function testBundle(options: {
  tenantId: string;
  producer: SigningKey;
  audit: SigningKey;
  count: number;
  checkpointEvery: number;
}): { lines: string[]; records: AppendedRecord[]; checkpoints: SignedCheckpoint[] } {
  const chain = new TenantChain(options.tenantId);
  const records: AppendedRecord[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  for (let index = 0; index < options.count; index += 1) {
    records.push(
      chain.append(signedTestEvent(options.producer, options.tenantId), new Date().toISOString()),
    );
    if ((index + 1) % options.checkpointEvery === 0 || index + 1 === options.count) {
      const checkpoint = chain.checkpoint(options.audit, new Date());
      if (checkpoint) checkpoints.push(checkpoint);
    }
  }
  const lines = [
    ...bundleLines({
      header: {
        tenantId: options.tenantId,
        exportedAt: new Date().toISOString(),
        events: options.count,
      },
      keys: [bundleKeyOf(options.producer, 'gateway'), bundleKeyOf(options.audit, 'audit')],
      records: records.map(({ leafHash: _leaf, receivedAt: _received, ...record }) => record),
      checkpoints,
    }),
  ];
  return { lines, records, checkpoints };
}
