import type { SignedAuditEvent } from '@heroagent/contracts';

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

/** One event as a CSV row. Personal fields stay encrypted; only the key that can open them is named. */
export function csvRow(
  seq: number,
  receivedAt: Date,
  envelope: SignedAuditEvent,
  hash: Buffer,
): string {
  const { event } = envelope;
  const key = event.personal?.key;
  return [
    seq,
    event.id,
    event.occurredAt,
    receivedAt.toISOString(),
    event.name,
    event.source,
    event.actor.type,
    event.actor.id,
    event.userId,
    event.taskId,
    event.action,
    event.outcome,
    event.rationale,
    event.policy?.effect,
    event.policy?.policyId,
    event.policy?.reason,
    event.relatedEventId,
    event.traceId,
    JSON.stringify(event.data),
    key === undefined ? undefined : `${key.scope}:${key.id}:v${key.version}`,
    hash.toString('hex'),
  ]
    .map(csvCell)
    .join(',');
}
