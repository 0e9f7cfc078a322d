import { describe, expect, it } from 'vitest';
import {
  ALL_RPC_CONTRACTS,
  ContractError,
  ERROR_CODES,
  auditEventSubject,
  defineRpc,
  executeAction,
  healthContracts,
  issueToken,
  signedAuditEventSchema,
  CLIENT_USER_AGENT_MAX,
  taskEventSchema,
  tenantModelSettingsSchema,
  toValidationIssues,
} from './index.js';
import { z } from 'zod';

const uuid = () => crypto.randomUUID();

describe('contract registry', () => {
  it('gives every RPC a unique subject of the form <service>.<entity>.<verb>', () => {
    const subjects = ALL_RPC_CONTRACTS.map((contract) => contract.subject);
    expect(new Set(subjects).size).toBe(subjects.length);
    for (const subject of subjects)
      expect(subject).toMatch(/^(gateway|agent|vault|audit)\.[a-z]+\.[a-z]+$/);
  });

  it('never uses a subject that the audit event stream (audit.events.*) would capture', () => {
    for (const contract of ALL_RPC_CONTRACTS)
      expect(contract.subject).not.toMatch(/^audit\.events\.[^.]+$/);
  });

  it('lists only known error codes', () => {
    for (const contract of ALL_RPC_CONTRACTS) {
      for (const code of contract.errors) expect(ERROR_CODES).toContain(code);
    }
  });

  it('refuses a subject that breaks the naming rule or contains wildcards', () => {
    for (const subject of [
      'gateway.actions',
      'gateway.*.execute',
      'Gateway.actions.execute',
      'a..b',
    ]) {
      expect(() =>
        defineRpc({
          subject,
          request: z.object({}),
          response: z.object({}),
          errors: [],
          callers: ['gateway'],
          description: '',
        }),
      ).toThrow(/not of the form/);
    }
  });

  it('names who may call each RPC: the agent only the gateway, the gateway every other service', () => {
    for (const contract of ALL_RPC_CONTRACTS) {
      expect(contract.callers, contract.subject).toEqual(
        contract.subject.startsWith('gateway.') && contract !== healthContracts.gateway
          ? ['agent']
          : ['gateway'],
      );
    }
  });

  it('refuses a contract that names no caller', () => {
    expect(() =>
      defineRpc({
        subject: 'agent.nobody.call',
        request: z.object({}),
        response: z.object({}),
        errors: [],
        callers: [],
        description: '',
      }),
    ).toThrow(/names no caller/);
  });
});

describe('gateway.actions.execute', () => {
  const valid = {
    capability: 'eyJ0ZW5hbnQiOiJ0MSJ9.c2lnbmF0dXJl',
    action: 'calendar.events.create',
    params: { summary: 'Lunch', attendees: ['bob@example.com'], durationMinutes: 30 },
    idempotencyKey: 'task-1:step-3',
    rationale: 'Bob is free on Tuesday at noon; inviting him as asked.',
  };

  it('accepts a well-formed request; untrusted parameters default to none', () => {
    expect(executeAction.request.parse(valid)).toEqual({ ...valid, untrustedParams: [] });
    const marked = { ...valid, untrustedParams: ['to', 'changes.attendees'] };
    expect(executeAction.request.parse(marked)).toEqual(marked);
  });

  it.each([
    ['no rationale', { ...valid, rationale: '   ' }, 'rationale'],
    ['a malformed capability', { ...valid, capability: 'not a token' }, 'capability'],
    ['an action type with wildcards', { ...valid, action: 'gmail.>' }, 'action'],
    ['a short idempotency key', { ...valid, idempotencyKey: 'k' }, 'idempotencyKey'],
    ['an unknown field', { ...valid, scopes: ['https://mail.google.com/'] }, '(root)'],
    ['params that are not an object', { ...valid, params: [1, 2] }, 'params'],
    [
      'untrusted parameters that are not names',
      { ...valid, untrustedParams: [''] },
      'untrustedParams.0',
    ],
    [
      'too many untrusted parameters',
      { ...valid, untrustedParams: Array(51).fill('to') },
      'untrustedParams',
    ],
  ])('refuses %s and names the field', (_name, input, path) => {
    const result = executeAction.request.safeParse(input);
    expect(result.success).toBe(false);
    const issues = toValidationIssues(result.error!);
    expect(issues.map((issue) => issue.path)).toContain(path);
  });

  it('distinguishes completed from pending-approval responses', () => {
    const pending = {
      status: 'pending_approval',
      actionId: uuid(),
      auditEventId: uuid(),
      approvalId: uuid(),
      expiresAt: '2026-11-25T18:00:00Z',
    };
    expect(executeAction.response.parse(pending)).toEqual(pending);
    expect(executeAction.response.safeParse({ ...pending, status: 'completed' }).success).toBe(
      false,
    );
  });
});

describe('vault.tokens.issue', () => {
  const grant = {
    tenantId: uuid(),
    userId: uuid(),
    connectionId: uuid(),
    scopes: ['https://www.googleapis.com/auth/calendar.events'],
    requestId: uuid(),
    issuedAt: '2026-11-25T16:00:00.000Z',
  };
  const signature = { alg: 'Ed25519', kid: 'gateway-1', sig: 'A'.repeat(86) };

  it('accepts a signed grant request', () => {
    expect(issueToken.request.parse({ grant, signature })).toEqual({ grant, signature });
  });

  it('refuses an unsigned request, empty scopes, and a scope with a space', () => {
    expect(issueToken.request.safeParse({ grant }).success).toBe(false);
    expect(
      issueToken.request.safeParse({ grant: { ...grant, scopes: [] }, signature }).success,
    ).toBe(false);
    expect(
      issueToken.request.safeParse({ grant: { ...grant, scopes: ['a b'] }, signature }).success,
    ).toBe(false);
  });

  it('only ever answers with a sealed token, never a clear one', () => {
    const clear = {
      token: 'ya29.secret',
      tokenType: 'Bearer',
      scopes: [],
      expiresAt: grant.issuedAt,
    };
    expect(issueToken.response.safeParse(clear).success).toBe(false);
  });
});

describe('audit event envelope', () => {
  const event = {
    id: uuid(),
    tenantId: uuid(),
    occurredAt: '2026-11-25T16:00:00Z',
    name: 'action.executed',
    source: 'gateway',
    actor: { type: 'agent', id: 'task-agent' },
    action: 'gmail.messages.send',
    outcome: 'success',
    data: { recipients: 'hae1.1.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA' },
  };
  const signature = { alg: 'Ed25519', kid: 'gateway-1', sig: 'A'.repeat(86) };

  it('accepts a signed event and refuses unsigned or unknown-source ones', () => {
    expect(signedAuditEventSchema.parse({ event, signature }).event.id).toBe(event.id);
    expect(signedAuditEventSchema.safeParse({ event }).success).toBe(false);
    expect(
      signedAuditEventSchema.safeParse({ event: { ...event, source: 'mallory' }, signature })
        .success,
    ).toBe(false);
  });

  it('takes a client address and a bounded user agent, and nothing else about the client', () => {
    const valid = (client: unknown) =>
      signedAuditEventSchema.safeParse({ event: { ...event, client }, signature }).success;
    expect(valid({ ip: '203.0.113.9', userAgent: 'Firefox/140.0' })).toBe(true);
    expect(valid({ ip: '2001:db8::1' })).toBe(true);
    expect(valid({})).toBe(true);
    for (const bad of [
      { ip: 'not-an-address' },
      { ip: '203.0.113.9, 10.0.0.1' },
      { userAgent: '' },
      { userAgent: 'x'.repeat(CLIENT_USER_AGENT_MAX + 1) },
      { ip: '203.0.113.9', port: 443 },
      'unknown',
    ]) {
      expect(valid(bad)).toBe(false);
    }
  });

  it('keys the subject by tenant UUID and refuses anything that could be a wildcard', () => {
    expect(auditEventSubject(event.tenantId)).toBe(`audit.events.${event.tenantId}`);
    for (const bad of ['>', '*', 'a.b', '']) expect(() => auditEventSubject(bad)).toThrow();
  });
});

describe('health contracts', () => {
  it('exist for all four services and accept only an empty request', () => {
    expect(Object.keys(healthContracts).sort()).toEqual([
      'agent',
      'audit',
      'gateway',
      'vault-proxy',
    ]);
    expect(healthContracts.agent.request.safeParse({ verbose: true }).success).toBe(false);
  });
});

describe('ContractError', () => {
  it('round-trips through its wire form', () => {
    const error = new ContractError('INVALID_REQUEST', 'bad', [{ path: 'a', message: 'Required' }]);
    const back = ContractError.fromBody(JSON.parse(JSON.stringify(error.toBody())));
    expect(back).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'bad',
      issues: [{ path: 'a' }],
    });
  });

  it('turns an unrecognisable body into INTERNAL rather than trusting it', () => {
    expect(ContractError.fromBody({ code: 'NOPE', message: 'x' }).code).toBe('INTERNAL');
    expect(ContractError.fromBody('Internal server error').code).toBe('INTERNAL');
  });
});

describe('the agent’s contracts', () => {
  const at = '2026-11-26T10:00:00.000Z';

  it('read a timeline event by its kind, and refuse an unknown kind, a bad code or seq 0', () => {
    expect(
      taskEventSchema.parse({ seq: 1, at, kind: 'stopped', code: 'TASK_STOPPED', message: 'x' }),
    ).toMatchObject({ kind: 'stopped' });
    for (const bad of [
      { seq: 1, at, kind: 'exfiltrated' },
      { seq: 1, at, kind: 'stopped', code: 'not a code', message: 'x' },
      { seq: 0, at, kind: 'note', text: 'x' },
      { seq: 1, at, kind: 'note', text: 'x', extra: true },
    ]) {
      expect(taskEventSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('default a tenant to local models only', () => {
    expect(tenantModelSettingsSchema.parse({})).toEqual({
      allowCloud: false,
      providerId: null,
      cloudMayReadBodies: false,
    });
  });

  it('bind every agent subject to a contract in the registry', () => {
    const subjects = ALL_RPC_CONTRACTS.map((contract) => contract.subject);
    expect(subjects).toEqual(
      expect.arrayContaining([
        'agent.tasks.start',
        'agent.tasks.stop',
        'agent.models.list',
        'gateway.tasks.report',
      ]),
    );
  });
});
