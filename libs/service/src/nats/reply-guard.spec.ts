import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRpc } from '@heroagent/contracts';
import { refusalOf } from './reply-guard.js';

const fromAgent = defineRpc({
  subject: 'gateway.guard.probe',
  request: z.object({}),
  response: z.object({}),
  errors: [],
  callers: ['agent'],
  description: 'test',
});
const fromGatewayOrAudit = defineRpc({
  subject: 'vault.guard.probe',
  request: z.object({}),
  response: z.object({}),
  errors: [],
  callers: ['gateway', 'audit'],
  description: 'test',
});

describe('refusalOf: a service answers only under its callers’ inboxes', () => {
  it('answers under the inbox of a caller the contract names, as nats.js and Nest build it', () => {
    for (const reply of [
      '_INBOX.agent.Xk3Jd9aQpL2mN0vB7cF1eR',
      '_INBOX.agent.Xk3Jd9aQpL2mN0vB7cF1eR.42',
    ]) {
      expect(refusalOf(fromAgent, reply), reply).toBeUndefined();
    }
    expect(refusalOf(fromGatewayOrAudit, '_INBOX.gateway.a')).toBeUndefined();
    expect(refusalOf(fromGatewayOrAudit, '_INBOX.audit.a.b')).toBeUndefined();
  });

  it.each([
    ['another service’s inbox', '_INBOX.gateway.x'],
    ['the vault-proxy inbox', '_INBOX.vault-proxy.x'],
    ['an audit event subject', 'audit.events.7d1c3f2e-5b8a-4c6d-9e0f-1a2b3c4d5e6f'],
    ['an audit request subject', 'audit.records.query'],
    ['the JetStream API', '$JS.API.STREAM.INFO.AUDIT_EVENTS'],
    ['a JetStream acknowledgement', '$JS.ACK.AUDIT_EVENTS.audit-ingest.1.1.1.1.1'],
    ['an agent subject', 'agent.tasks.start'],
    ['a gateway subject', 'gateway.actions.execute'],
    ['the bare inbox prefix', '_INBOX.agent'],
    ['the inbox prefix and a dot', '_INBOX.agent.'],
    ['a longer identity sharing the prefix', '_INBOX.agentx.y'],
    ['the relay’s inbox', '_INBOX.gateway-relay.x'],
    ['the default nats.js inbox', '_INBOX.Xk3Jd9aQpL2mN0vB7cF1eR'],
    ['a wildcard token', '_INBOX.agent.*'],
    ['a full wildcard', '_INBOX.agent.>'],
    ['an empty token', '_INBOX.agent..x'],
    ['whitespace', '_INBOX.agent.x y'],
    ['a lower-case look-alike', '_inbox.agent.x'],
  ])('drops a reply naming %s', (_name, reply) => {
    expect(refusalOf(fromAgent, reply)).toBe('REPLY_OUTSIDE_CALLER_INBOX');
  });

  it('drops a request without a reply subject, and one on a subject no contract is bound to', () => {
    expect(refusalOf(fromAgent, undefined)).toBe('NO_REPLY_SUBJECT');
    expect(refusalOf(fromAgent, '')).toBe('NO_REPLY_SUBJECT');
    expect(refusalOf(undefined, '_INBOX.agent.x')).toBe('NO_CONTRACT');
  });
});
