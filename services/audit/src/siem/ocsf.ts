import type { AuditEvent } from '@heroagent/contracts';
import { PLATFORM_VERSION } from '@heroagent/service';

/** OCSF schema version the mapping follows (validated against it in the audit tests). */
export const OCSF_VERSION = '1.8.0';

type OcsfValue = string | number | boolean | null | OcsfValue[] | { [key: string]: OcsfValue };
type OcsfObject = { [key: string]: OcsfValue };

/** An OCSF class and the activity within it that an audit event is. */
export interface OcsfClass {
  readonly categoryUid: 3 | 6;
  readonly classUid: 3001 | 3002 | 3005 | 6003;
  readonly activityId: number;
  readonly activityName: string;
}

const CATEGORY_NAMES = { 3: 'Identity & Access Management', 6: 'Application Activity' } as const;
const CLASS_NAMES = {
  3001: 'Account Change',
  3002: 'Authentication',
  3005: 'User Access Management',
  6003: 'API Activity',
} as const;

// Why these classes (OCSF 1.8.0 definitions):
// - Authentication (3002) "reports authentication session activities such as user attempts a logon
//   or logoff, successfully or otherwise": sign-ins, refused sign-ins and sign-outs.
// - Account Change (3001) "reports when specific user account management tasks are performed":
//   a person's account coming into being.
// - User Access Management (3005) "reports management updates to a user's privileges": a tenant
//   membership is the set of privileges its role grants, so joining, a role change, removal and
//   an invitation (privileges offered, or withdrawn) are this class; so is a connection, by which
//   a person grants HeroAgent delegated access (OAuth scopes) to their Google account.
// - API Activity (6003) for the rest, which are operations through HeroAgent's APIs: the agent's
//   actions, tasks, policies, approvals, exports.
const AUTHENTICATION: Record<string, [number, string]> = {
  'session.started': [1, 'Logon'],
  'session.sign_in_failed': [1, 'Logon'],
  'session.ended': [2, 'Logoff'],
};
const ACCOUNT_CHANGE: Record<string, [number, string]> = {
  'account.created': [1, 'Create'],
};
const ACCESS: Record<string, [number, string]> = {
  'member.joined': [1, 'Assign Privileges'],
  'member.role_changed': [1, 'Assign Privileges'],
  'member.removed': [2, 'Revoke Privileges'],
  // An invitation offers privileges nobody holds yet: neither assigned nor revoked.
  'member.invited': [99, 'Invite'],
  'member.invitation_revoked': [2, 'Revoke Privileges'],
  'connection.created': [1, 'Assign Privileges'],
  'connection.updated': [1, 'Assign Privileges'],
  'connection.revoked': [2, 'Revoke Privileges'],
};
// The verb of an action type (`gmail.messages.send`) or of an event's past tense (`policy.changed`).
const API_VERBS: [RegExp, number, string][] = [
  [/\.(list|search|get|read|freebusy|query|exported|verified)$/, 2, 'Read'],
  [/\.(create|send|draft|purchase|insert|created|started|scheduled)$/, 1, 'Create'],
  [
    /\.(update|label|archive|move|restore|modify|patch|changed|updated|applied|paused|resumed|stopped)$/,
    3,
    'Update',
  ],
  [/\.(delete|trash|cancel|remove|cancelled|closed|removed|revoked)$/, 4, 'Delete'],
];

/** Which OCSF class and activity an audit event is. */
export function ocsfClassOf(event: AuditEvent): OcsfClass {
  const auth = AUTHENTICATION[event.name];
  if (auth) return { categoryUid: 3, classUid: 3002, activityId: auth[0], activityName: auth[1] };
  const account = ACCOUNT_CHANGE[event.name];
  if (account) {
    return { categoryUid: 3, classUid: 3001, activityId: account[0], activityName: account[1] };
  }
  const access = ACCESS[event.name];
  if (access) {
    return { categoryUid: 3, classUid: 3005, activityId: access[0], activityName: access[1] };
  }
  const verb = API_VERBS.find(([pattern]) => pattern.test(event.action ?? event.name));
  return {
    categoryUid: 6,
    classUid: 6003,
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

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** The person an IAM event is about: the one whose session, account or privileges it concerns. */
function subjectUser(event: AuditEvent): OcsfObject {
  const invitation = text(event.data.invitationId);
  if (event.userId === undefined && event.name.startsWith('member.invit') && invitation) {
    // Not a person yet: the invitation stands for whoever accepts it.
    return { uid: `invitation:${invitation}`, type_id: 1, type: 'User' };
  }
  if (event.userId === undefined && event.name === 'session.sign_in_failed') {
    // Nobody signed in: whoever tried is not known to HeroAgent.
    return { uid: event.actor.id, type_id: 0, type: 'Unknown' };
  }
  return { uid: event.userId ?? event.actor.id, type_id: 1, type: 'User' };
}

/** Who did it. */
function actorOf(event: AuditEvent): OcsfObject {
  const user: OcsfObject =
    event.actor.type === 'service'
      ? { uid: event.actor.id, type_id: 4, type: 'Service' }
      : {
          uid: event.actor.type === 'user' ? event.actor.id : (event.userId ?? event.actor.id),
          type_id: 1,
          type: 'User',
        };
  return {
    user,
    ...(event.actor.type === 'agent'
      ? { app_name: 'heroagent-agent', app_uid: event.actor.id }
      : {}),
  };
}

/**
 * Where the activity came from: the HTTP client's address when a request caused it; otherwise
 * (API Activity requires one) the HeroAgent service it came through.
 */
function sourceEndpoint(event: AuditEvent, required: boolean): OcsfObject | undefined {
  if (event.client?.ip !== undefined) return { ip: event.client.ip };
  if (!required) return undefined;
  return event.actor.type === 'agent'
    ? { svc_name: 'heroagent-agent', uid: event.actor.id }
    : { svc_name: `heroagent-${event.source}` };
}

/** The privileges an access event assigns or revokes: a role, or a connection's OAuth scopes. */
function privilegesOf(event: AuditEvent): string[] {
  const scopes = event.data.scopes;
  if (Array.isArray(scopes)) return scopes.filter((scope) => typeof scope === 'string');
  const role = text(event.data.to) ?? text(event.data.role);
  if (role) return [`role:${role}`];
  return event.name.startsWith('connection.') ? ['connection'] : [];
}

/**
 * The OCSF form of an audit event, for SIEMs that speak OCSF. Personal fields stay encrypted and
 * are not sent: a SIEM gets ids, types, outcomes, which policy decided, and the client that caused
 * it (address, user agent); not the agent's rationale or a policy's reason (sealed with the
 * person's key since they may name someone, except in events recorded before), mail or contacts. The trace id is the event's
 * `metadata.correlation_uid`, and for API Activity also its `trace` (the trace profile).
 */
export function toOcsf(
  event: AuditEvent,
  record: { seq: number; hash: string; receivedAt: Date },
): OcsfObject {
  const kind = ocsfClassOf(event);
  const className = CLASS_NAMES[kind.classUid];
  const [statusId, status] = STATUS[event.outcome];
  const [severityId, severity] = SEVERITY[event.outcome];
  const code = text(event.data.code);
  const api = kind.classUid === 6003;
  const traced = api && event.traceId !== undefined;
  const source = sourceEndpoint(event, api);
  const base: OcsfObject = {
    category_uid: kind.categoryUid,
    category_name: CATEGORY_NAMES[kind.categoryUid],
    class_uid: kind.classUid,
    class_name: className,
    activity_id: kind.activityId,
    activity_name: kind.activityName,
    type_uid: kind.classUid * 100 + kind.activityId,
    type_name: `${className}: ${kind.activityName}`,
    time: Date.parse(event.occurredAt),
    severity_id: severityId,
    severity,
    status_id: statusId,
    status,
    ...(code === undefined ? {} : { status_code: code }),
    ...(event.policy === undefined
      ? {}
      : {
          status_detail:
            `${event.policy.effect} by ${event.policy.policyId}` +
            (event.policy.reason === undefined ? '' : `: ${event.policy.reason}`),
        }),
    message: event.rationale ?? event.name,
    metadata: {
      version: OCSF_VERSION,
      uid: event.id,
      log_name: 'heroagent.audit',
      logged_time: record.receivedAt.getTime(),
      tenant_uid: event.tenantId,
      product: {
        name: 'HeroAgent',
        vendor_name: 'HeroAgent',
        version: PLATFORM_VERSION,
        feature: { name: event.source },
      },
      ...(event.traceId === undefined ? {} : { correlation_uid: event.traceId }),
      ...(traced ? { profiles: ['trace'] } : {}),
    },
    actor: actorOf(event),
    ...(source === undefined ? {} : { src_endpoint: source }),
    ...(event.client?.userAgent === undefined
      ? {}
      : { http_request: { user_agent: event.client.userAgent } }),
    ...(traced ? { trace: { uid: event.traceId! } } : {}),
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
  switch (kind.classUid) {
    case 3002: {
      const sessionId = text(event.data.sessionId);
      return {
        ...base,
        user: subjectUser(event),
        // Every sign-in is OpenID Connect (Google or the configured OIDC provider), over the web.
        auth_protocol_id: 4,
        auth_protocol: 'OpenID',
        is_remote: true,
        ...(sessionId === undefined ? {} : { session: { uid: sessionId } }),
      };
    }
    case 3001:
      return { ...base, user: subjectUser(event) };
    case 3005:
      return { ...base, user: subjectUser(event), privileges: privilegesOf(event) };
    case 6003:
      return {
        ...base,
        api: {
          operation: event.action ?? event.name,
          service: { name: `heroagent-${event.source}` },
          request: { uid: event.id },
          ...(code === undefined ? {} : { response: { error: code } }),
        },
      };
  }
}
