import type { AuditRecord } from '@heroagent/contracts';
import type { OpenedPersonalFields } from '../privacy/personal-fields.js';

const COLUMNS = [
  'seq',
  'event_id',
  'occurred_at',
  'received_at',
  'name',
  'source',
  'actor_type',
  'actor_id',
  'user_id',
  'task_id',
  'action',
  'outcome',
  'rationale',
  'policy_effect',
  'policy_id',
  'policy_reason',
  'related_event_id',
  'trace_id',
  'data',
  'personal_fields_key',
  'personal_fields',
  'hash',
] as const;

/**
 * One CSV cell (RFC 4180 quoting). A cell that a spreadsheet would run as a formula (starting with
 * = + - @, a tab or a carriage return) is prefixed with an apostrophe: an agent's rationale or an
 * email subject must never become code on an auditor's machine.
 */
export function csvCell(value: string | number | undefined | null): string {
  let text = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text.startsWith("'") ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The header row. */
export function csvHeader(): string {
  return COLUMNS.join(',');
}

/**
 * One record as a CSV row, its personal fields as opened for the viewer (`opened`): the rationale
 * and policy reason in their columns, other personal details as JSON, or `erased` once their key
 * is gone. Events recorded before personal fields were sealed carry them in clear.
 */
export function csvRow(record: AuditRecord, opened: OpenedPersonalFields | undefined): string {
  const { event } = record.envelope;
  const key = event.personal?.key;
  const personal = opened === 'erased' ? undefined : opened;
  return [
    record.seq,
    event.id,
    event.occurredAt,
    record.receivedAt,
    event.name,
    event.source,
    event.actor.type,
    event.actor.id,
    event.userId,
    event.taskId,
    event.action,
    event.outcome,
    personal?.rationale ?? event.rationale,
    event.policy?.effect,
    event.policy?.policyId,
    personal?.policyReason ?? event.policy?.reason,
    event.relatedEventId,
    event.traceId,
    JSON.stringify(event.data),
    key === undefined ? undefined : `${key.scope}:${key.id}:v${key.version}`,
    opened === 'erased'
      ? 'erased'
      : personal?.details === undefined
        ? undefined
        : JSON.stringify(personal.details),
    record.hash,
  ]
    .map(csvCell)
    .join(',');
}
