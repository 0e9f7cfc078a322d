import { SeverityNumber, TraceFlags, type Attributes, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { SignedAuditEvent } from '@heroagent/contracts';
import { PLATFORM_VERSION } from '@heroagent/service';
import { toOcsf } from './ocsf.js';

const SCOPE = { name: 'heroagent.audit', version: PLATFORM_VERSION };

const SEVERITY: Record<SignedAuditEvent['event']['outcome'], [SeverityNumber, string]> = {
  success: [SeverityNumber.INFO, 'INFO'],
  pending: [SeverityNumber.INFO, 'INFO'],
  denied: [SeverityNumber.WARN, 'WARN'],
  failure: [SeverityNumber.ERROR, 'ERROR'],
};

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

/**
 * One audit event as an OpenTelemetry log record: the OCSF object as its body, and attributes
 * after the semantic conventions — `user.id`, `client.address` and `user_agent.original` when an
 * HTTP request caused it, and for actions the agent took, `gen_ai.*` naming the agent and the
 * tool (the catalog action). `eventName` is the record's name; its trace id is the event's, so a
 * SIEM can join it to the traces of the request (the event keeps no span id, so none is sent).
 */
export function toLogRecord(
  envelope: SignedAuditEvent,
  record: { seq: number; hash: string; receivedAt: Date },
): ReadableLogRecord {
  const { event } = envelope;
  const attributes: Attributes = {
    'heroagent.tenant.id': event.tenantId,
    'heroagent.event.id': event.id,
    'heroagent.event.source': event.source,
    'heroagent.audit.seq': record.seq,
    'heroagent.audit.hash': record.hash,
    'heroagent.outcome': event.outcome,
    'heroagent.actor.type': event.actor.type,
  };
  if (event.userId !== undefined) attributes['user.id'] = event.userId;
  if (event.taskId !== undefined) attributes['heroagent.task.id'] = event.taskId;
  if (event.client?.ip !== undefined) attributes['client.address'] = event.client.ip;
  if (event.client?.userAgent !== undefined) {
    attributes['user_agent.original'] = event.client.userAgent;
  }
  if (event.policy !== undefined) {
    attributes['heroagent.policy.effect'] = event.policy.effect;
    attributes['heroagent.policy.id'] = event.policy.policyId;
  }
  if (event.action !== undefined && event.actor.type === 'agent') {
    attributes['gen_ai.operation.name'] = 'execute_tool';
    attributes['gen_ai.agent.name'] = 'heroagent';
    attributes['gen_ai.agent.id'] = event.actor.id;
    attributes['gen_ai.tool.name'] = event.action;
    attributes['gen_ai.tool.type'] = 'function';
    if (event.taskId !== undefined) attributes['gen_ai.conversation.id'] = event.taskId;
  } else if (event.action !== undefined) {
    attributes['heroagent.action'] = event.action;
  }
  const [severityNumber, severityText] = SEVERITY[event.outcome];
  return {
    hrTime: hrTime(Date.parse(event.occurredAt)),
    hrTimeObserved: hrTime(record.receivedAt.getTime()),
    severityNumber,
    severityText,
    eventName: `heroagent.${event.name}`,
    body: toOcsf(event, record),
    ...(event.traceId === undefined
      ? {}
      : { spanContext: { traceId: event.traceId, spanId: '', traceFlags: TraceFlags.NONE } }),
    attributes,
    droppedAttributesCount: 0,
    resource: RESOURCE,
    instrumentationScope: SCOPE,
  };
}

const RESOURCE = resourceFromAttributes({
  'service.name': 'heroagent-audit',
  'service.version': PLATFORM_VERSION,
});
