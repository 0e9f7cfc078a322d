import type { ActivityRecord, AuditRecord } from '@heroagent/contracts';
import type { OpenedPersonalFields } from '../privacy/personal-fields.js';

type Data = AuditRecord['envelope']['event']['data'];

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const count = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** The approval an event records or ran after, from the fields the gateway puts in `data`. */
function approvalOf(data: Data): ActivityRecord['approval'] {
  const id = text(data.approvalId);
  if (id === null) return null;
  const approvedBy = Array.isArray(data.approvedBy)
    ? data.approvedBy.filter((who): who is string => typeof who === 'string')
    : null;
  return { id, approvedBy, approvals: count(data.approvals), required: count(data.required) };
}

/**
 * One stored record as the console lists it: the event flattened, its chain links and signer, and
 * its personal fields opened (`opened`), or said erased. Events recorded before personal fields
 * were sealed carry their rationale and reason in clear.
 */
export function toActivityRecord(
  record: AuditRecord,
  opened: OpenedPersonalFields | undefined,
): ActivityRecord {
  const { event, signature } = record.envelope;
  const key = event.personal?.key;
  const personal = opened === 'erased' ? undefined : opened;
  const reason = personal?.policyReason ?? event.policy?.reason;
  return {
    seq: record.seq,
    receivedAt: record.receivedAt,
    eventId: event.id,
    name: event.name,
    occurredAt: event.occurredAt,
    source: event.source,
    actor: event.actor,
    userId: event.userId ?? null,
    taskId: event.taskId ?? null,
    actionId: text(event.data.actionId),
    action: event.action ?? null,
    outcome: event.outcome,
    rationale: personal?.rationale ?? event.rationale ?? null,
    policy:
      event.policy === undefined
        ? null
        : { ...event.policy, ...(reason === undefined ? {} : { reason }) },
    approval: approvalOf(event.data),
    relatedEventId: event.relatedEventId ?? null,
    traceId: event.traceId ?? null,
    data: event.data,
    details: personal?.details ?? null,
    personal:
      key === undefined
        ? null
        : {
            scope: key.scope,
            keyId: key.id,
            keyVersion: key.version,
            erased: opened === 'erased',
          },
    hash: record.hash,
    prevHash: record.prevHash,
    signatureKid: signature.kid,
  };
}
