import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '@heroagent/contracts';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import { generateSigningKey } from '@heroagent/crypto';
import { OCSF_VERSION, ocsfClassOf, toOcsf } from '../src/siem/ocsf.js';
import { OCSF_SCHEMA, ocsfProblems } from './ocsf/validate.js';

const key = generateSigningKey();
const tenant = randomUUID();
const stored = { seq: 7, hash: 'a'.repeat(64), receivedAt: new Date() };
const client = { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' };
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

function event(overrides: Partial<AuditEvent>): AuditEvent {
  return signedTestEvent(key, tenant, overrides).event;
}
const byUser = { actor: { type: 'user' as const, id: randomUUID() }, action: undefined };

// Every kind of event the services record, with the data they give it, and its expected class.
const EVENTS: [Partial<AuditEvent>, number, number][] = [
  [
    { ...byUser, name: 'session.started', data: { provider: 'google', sessionId: randomUUID() } },
    3002,
    1,
  ],
  [
    {
      ...byUser,
      actor: { type: 'user', id: 'anonymous' },
      userId: undefined,
      name: 'session.sign_in_failed',
      outcome: 'failure',
      data: { provider: 'oidc', code: 'FORBIDDEN', failuresInWindow: 1 },
    },
    3002,
    1,
  ],
  [
    { ...byUser, name: 'session.ended', data: { sessionId: randomUUID(), reason: 'signed_out' } },
    3002,
    2,
  ],
  [{ ...byUser, name: 'account.created', data: { provider: 'google' } }, 3001, 1],
  [
    { ...byUser, name: 'member.joined', data: { invitationId: randomUUID(), role: 'member' } },
    3005,
    1,
  ],
  [{ ...byUser, name: 'member.role_changed', data: { from: 'member', to: 'admin' } }, 3005, 1],
  [{ ...byUser, name: 'member.removed', data: { role: 'member', tasksStopped: 2 } }, 3005, 2],
  [
    {
      ...byUser,
      userId: undefined,
      name: 'member.invited',
      data: { invitationId: randomUUID(), role: 'auditor' },
    },
    3005,
    99,
  ],
  [
    {
      ...byUser,
      userId: undefined,
      name: 'member.invitation_revoked',
      data: { invitationId: randomUUID() },
    },
    3005,
    2,
  ],
  [
    {
      ...byUser,
      name: 'connection.created',
      data: {
        connectionId: randomUUID(),
        scopes: ['https://www.googleapis.com/auth/gmail.readonly'],
      },
    },
    3005,
    1,
  ],
  [{ ...byUser, name: 'connection.revoked', data: { connectionId: randomUUID() } }, 3005, 2],
  [{}, 6003, 1],
  [{ action: 'gmail.messages.list' }, 6003, 2],
  [
    {
      name: 'action.refused',
      outcome: 'denied',
      action: 'gmail.messages.send',
      data: { code: 'FORBIDDEN' },
    },
    6003,
    1,
  ],
  [{ ...byUser, name: 'policy.changed', data: {} }, 6003, 3],
  [{ ...byUser, name: 'tenant.closed', data: {} }, 6003, 4],
  [{ ...byUser, name: 'audit.record.exported', data: {} }, 6003, 2],
  [{ ...byUser, name: 'siem.test', source: 'audit', data: {} }, 6003, 99],
  [
    {
      actor: { type: 'service', id: 'gateway' },
      action: undefined,
      name: 'approval.expired',
      outcome: 'failure',
      data: {},
    },
    6003,
    99,
  ],
];

describe('OCSF mapping, validated against the OCSF 1.8.0 schema', () => {
  it('uses the schema version it is validated against', () => {
    expect(OCSF_SCHEMA.version).toBe(OCSF_VERSION);
  });

  it.each(EVENTS)(
    'maps %o to its class and activity, valid with and without a client and a trace',
    (overrides, classUid, activityId) => {
      for (const extra of [{}, { client, traceId }, { client: { userAgent: 'curl/8.0' } }]) {
        const source = event({ ...overrides, ...extra });
        const ocsf = toOcsf(source, stored);
        expect(ocsfClassOf(source)).toMatchObject({ classUid, activityId });
        expect(ocsfProblems(ocsf)).toEqual([]);
        expect(ocsf).toMatchObject({
          class_uid: classUid,
          activity_id: activityId,
          type_uid: classUid * 100 + activityId,
        });
      }
    },
  );

  it('carries the client and the trace where OCSF puts them', () => {
    const signIn = toOcsf(event({ ...EVENTS[0]![0], client, traceId }), stored);
    expect(signIn).toMatchObject({
      src_endpoint: { ip: client.ip },
      http_request: { user_agent: client.userAgent },
      metadata: { correlation_uid: traceId, product: { name: 'HeroAgent' }, version: '1.8.0' },
      auth_protocol_id: 4,
    });
    // Authentication has no trace profile in OCSF 1.8.0: the trace id is the correlation uid.
    expect(signIn).not.toHaveProperty('trace');
    const action = toOcsf(event({ client, traceId }), stored);
    expect(action).toMatchObject({
      trace: { uid: traceId },
      metadata: { profiles: ['trace'], correlation_uid: traceId },
      src_endpoint: { ip: client.ip },
    });
    // An agent's action came through no HTTP client: its source is the agent.
    expect(toOcsf(event({}), stored)).toMatchObject({
      src_endpoint: { svc_name: 'heroagent-agent' },
    });
    expect(toOcsf(event(EVENTS[0]![0]), stored)).not.toHaveProperty('src_endpoint');
  });

  it('names who an event is about: a person, nobody known, or a service', () => {
    expect(toOcsf(event(EVENTS[1]![0]), stored)).toMatchObject({
      user: { uid: 'anonymous', type_id: 0 },
      actor: { user: { uid: 'anonymous' } },
      status_id: 2,
      status_code: 'FORBIDDEN',
    });
    expect(toOcsf(event(EVENTS.at(-1)![0]), stored)).toMatchObject({
      actor: { user: { uid: 'gateway', type_id: 4, type: 'Service' } },
    });
  });

  it('names the privileges a membership or a connection grants', () => {
    expect(toOcsf(event(EVENTS[5]![0]), stored)).toMatchObject({ privileges: ['role:admin'] });
    expect(toOcsf(event(EVENTS[9]![0]), stored)).toMatchObject({
      privileges: ['https://www.googleapis.com/auth/gmail.readonly'],
    });
  });

  it('finds what is wrong with an event that breaks the schema (the check can fail)', () => {
    const valid = toOcsf(event({ ...EVENTS[0]![0], client, traceId }), stored);
    const broken = (change: (copy: Record<string, unknown>) => void) => {
      const copy = structuredClone(valid) as Record<string, unknown>;
      change(copy);
      return ocsfProblems(copy);
    };
    expect(broken((copy) => delete copy.user)).toEqual(['event.user: is required']);
    expect(broken((copy) => (copy.activity_id = 42))).toEqual([
      'event.activity_id: 42 is not one of 0, 1, 2, 3, 4, 5, 6, 7, 99',
      'type_uid 300201 is not class_uid * 100 + activity_id',
    ]);
    expect(broken((copy) => (copy.type_uid = 300202))).toEqual([
      'type_uid 300202 is not class_uid * 100 + activity_id',
    ]);
    expect(broken((copy) => (copy.type_uid = 300208))).toEqual([
      'event.type_uid: 300208 is not one of 300200, 300201, 300202, 300203, 300204, 300205, 300206, 300207, 300299',
      'type_uid 300208 is not class_uid * 100 + activity_id',
    ]);
    expect(broken((copy) => (copy.category_uid = 6))).toEqual([
      'event.category_uid: 6 is not one of 3',
      'category_uid is 6, not 3',
    ]);
    expect(broken((copy) => (copy.src_ip = '203.0.113.9'))).toEqual([
      'event.src_ip: is not an OCSF attribute here',
    ]);
    expect(broken((copy) => (copy.time = '2026-12-05'))).toEqual([
      'event.time: "2026-12-05" is not long_t',
    ]);
    expect(broken((copy) => ((copy.metadata as Record<string, unknown>).product = {}))).toEqual([]);
    expect(broken((copy) => delete (copy.metadata as Record<string, unknown>).version)).toEqual([
      'event.metadata.version: is required',
    ]);
    expect(broken((copy) => (copy.src_endpoint = { port: 443 }))).toEqual([
      expect.stringMatching(/^event\.src_endpoint: needs at least one of ip, /),
    ]);
    expect(broken((copy) => (copy.trace = { uid: traceId }))).toEqual([
      'event.trace: is not an OCSF attribute here',
    ]);
    const action = toOcsf(event({ traceId }), stored);
    delete (action.metadata as Record<string, unknown>).profiles;
    expect(ocsfProblems(action)).toEqual([
      'event.trace: needs the trace profile in metadata.profiles',
    ]);
    expect(ocsfProblems({ ...valid, class_uid: 4001 })).toEqual(['class_uid 4001 is not known']);
  });
});
