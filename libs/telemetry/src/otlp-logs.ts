import { context, logs, SeverityNumber, type Attributes } from '@opentelemetry/api';
import type { DestinationStream } from 'pino';

const SEVERITY: Record<string, SeverityNumber> = {
  trace: SeverityNumber.TRACE,
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
  fatal: SeverityNumber.FATAL,
};
// Fields a log record carries in its own fields, not as attributes.
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'trace_id', 'span_id']);
// Nested fields become dotted attribute names up to five names deep; deeper ones become JSON.
const MAX_DEPTH = 4;

function flatten(prefix: string, value: unknown, into: Attributes, depth: number): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    into[prefix] = value;
  } else if (Array.isArray(value)) {
    into[prefix] = value.every((item) => typeof item === 'string') ? value : JSON.stringify(value);
  } else if (typeof value === 'object' && depth < MAX_DEPTH) {
    for (const [key, item] of Object.entries(value))
      flatten(`${prefix}.${key}`, item, into, depth + 1);
  } else {
    into[prefix] = JSON.stringify(value);
  }
}

/**
 * One finished log line as an OpenTelemetry log record: the message as its body, the level as
 * its severity, the other fields as attributes (nested ones by dotted name). The line is the one
 * the logger wrote, after redaction, so the record holds nothing the line did not.
 */
export function logRecordOfLine(line: string) {
  const fields = JSON.parse(line) as Record<string, unknown>;
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!OWN_FIELDS.has(key)) flatten(key, value, attributes, 0);
  }
  const level = typeof fields.level === 'string' ? fields.level : 'info';
  return {
    timestamp: typeof fields.time === 'string' ? new Date(fields.time) : new Date(),
    severityNumber: SEVERITY[level] ?? SeverityNumber.UNSPECIFIED,
    severityText: level.toUpperCase(),
    body: typeof fields.msg === 'string' ? fields.msg : '',
    attributes,
  };
}

/**
 * A pino destination that writes every line where it was going and also emits it through the
 * OpenTelemetry Logs API, which the SDK exports over OTLP when a logs endpoint is configured.
 * Pino writes a line synchronously in the logging call, so the active context — and with it the
 * trace and span the line names — is the caller's.
 */
export function mirrorToOtlp(destination: DestinationStream): DestinationStream {
  const logger = logs.getLogger('heroagent');
  return {
    write(line: string) {
      destination.write(line);
      try {
        logger.emit({ ...logRecordOfLine(line), context: context.active() });
      } catch {
        // A line that is not JSON (never written by pino) still reached its destination.
      }
    },
  };
}
