import type { AuditEvent } from '@heroagent/contracts';

/** OCSF schema version the mapping follows. */
export const OCSF_VERSION = '1.3.0';

type OcsfValue = string | number | boolean | null | OcsfValue[] | { [key: string]: OcsfValue };

interface OcsfClass {
  readonly categoryUid: number;
  readonly classUid: number;
  readonly className: string;
  readonly activityId: number;
  readonly activityName: string;
}

// Console sign-ins and sign-outs are Authentication (3002); grants and revocations of access are
// User Access Management (3005); everything the agent does through the gateway is API Activity (6003).
const AUTHENTICATION: Record<string, [number, string]> = {
  'session.started': [1, 'Logon'],
  'session.signed_in': [1, 'Logon'],
  'session.ended': [2, 'Logoff'],
  'session.signed_out': [2, 'Logoff'],
};
const ACCESS: Record<string, [number, string]> = {
  'connection.created': [1, 'Assign Privileges'],
  'connection.granted': [1, 'Assign Privileges'],
  'consent.granted': [1, 'Assign Privileges'],
  'role.granted': [1, 'Assign Privileges'],
  'connection.revoked': [2, 'Revoke Privileges'],
  'consent.revoked': [2, 'Revoke Privileges'],
  'role.revoked': [2, 'Revoke Privileges'],
};
const API_VERBS: [RegExp, number, string][] = [
  [/\.(list|search|get|read|freebusy|query)$/, 2, 'Read'],
  [/\.(create|send|draft|purchase|insert)$/, 1, 'Create'],
  [/\.(update|label|archive|move|restore|modify|patch)$/, 3, 'Update'],
  [/\.(delete|trash|cancel|remove)$/, 4, 'Delete'],
];

/** Which OCSF class and activity an audit event is. */
export function ocsfClassOf(event: AuditEvent): OcsfClass {
  const auth = AUTHENTICATION[event.name];
  if (auth)
    return {
      categoryUid: 3,
      classUid: 3002,
      className: 'Authentication',
      activityId: auth[0],
      activityName: auth[1],
    };
  const access = ACCESS[event.name];
  if (access) {
    return {
      categoryUid: 3,
      classUid: 3005,
      className: 'User Access Management',
      activityId: access[0],
      activityName: access[1],
    };
  }
  const verb = API_VERBS.find(([pattern]) => pattern.test(event.action ?? event.name));
  return {
    categoryUid: 6,
    classUid: 6003,
    className: 'API Activity',
    activityId: verb?.[1] ?? 99,
    activityName: verb?.[2] ?? 'Other',
  };
}

const STATUS: Record<AuditEvent['outcome'], [number, string]> = {
  success: [1, 'Success'],
  failure: [2, 'Failure'],
  denied: [2, 'Failure'],
  pending: [99, 'Other'],
};
const SEVERITY: Record<AuditEvent['outcome'], [number, string]> = {
  success: [1, 'Informational'],
  pending: [1, 'Informational'],
  denied: [3, 'Medium'],
  failure: [2, 'Low'],
};

/**
 * The OCSF form of an audit event, for SIEMs that speak OCSF. Personal fields stay encrypted and
 * are not sent: a SIEM gets ids, types, outcomes, policies and rationales, not mail or contacts.
 */
export function toOcsf(
  event: AuditEvent,
  record: { seq: number; hash: string; receivedAt: Date },
): Record<string, OcsfValue> {
  const kind = ocsfClassOf(event);
  const [statusId, status] = STATUS[event.outcome];
  const [severityId, severity] = SEVERITY[event.outcome];
  const user: Record<string, OcsfValue> = {
    uid: event.userId ?? event.actor.id,
    type_id: event.actor.type === 'service' ? 3 : 1,
  };
  const base: Record<string, OcsfValue> = {
    category_uid: kind.categoryUid,
    class_uid: kind.classUid,
    class_name: kind.className,
    activity_id: kind.activityId,
    activity_name: kind.activityName,
    type_uid: kind.classUid * 100 + kind.activityId,
    time: Date.parse(event.occurredAt),
    severity_id: severityId,
    severity,
    status_id: statusId,
    status,
    ...(event.policy === undefined
      ? {}
      : {
          status_detail: `${event.policy.effect} by ${event.policy.policyId}: ${event.policy.reason}`,
        }),
    message: event.rationale ?? event.name,
    metadata: {
      version: OCSF_VERSION,
      uid: event.id,
      log_name: 'heroagent.audit',
      logged_time: record.receivedAt.getTime(),
      tenant_uid: event.tenantId,
      product: { name: 'HeroAgent', vendor_name: 'HeroAgent', feature: { name: event.source } },
      ...(event.traceId === undefined ? {} : { correlation_uid: event.traceId }),
    },
    actor: {
      user,
      ...(event.actor.type === 'agent'
        ? { app_name: 'heroagent-agent', app_uid: event.actor.id }
        : {}),
    },
    unmapped: {
      heroagent: {
        name: event.name,
        seq: record.seq,
        hash: record.hash,
        ...(event.taskId === undefined ? {} : { task_id: event.taskId }),
        ...(event.relatedEventId === undefined ? {} : { related_event_id: event.relatedEventId }),
        ...(event.personal === undefined ? {} : { personal_fields: 'encrypted, not exported' }),
      },
    },
  };
  if (kind.classUid === 3002) return { ...base, user, is_mfa: false };
  if (kind.classUid === 3005) return { ...base, user, privileges: [event.action ?? event.name] };
  return {
    ...base,
    api: {
      operation: event.action ?? event.name,
      service: { name: event.source },
      request: { uid: event.id },
      response: { code: statusId === 1 ? 200 : 403 },
    },
  };
}
