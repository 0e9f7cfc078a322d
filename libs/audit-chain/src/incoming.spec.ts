import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalJson,
  exportEd25519PublicKey,
  generateSigningKey,
  toBase64Url,
} from '@heroagent/crypto';
import { IncomingChecker, type TrustedKey } from './incoming.js';
import { signedTestEvent } from './testing.js';
import { VerifierPool } from './verifier-pool.js';

const gatewayKey = generateSigningKey('gateway-1');
const retiredKey = generateSigningKey('gateway-0');
const tenantId = randomUUID();
const trusted: TrustedKey[] = [
  {
    kid: gatewayKey.kid,
    service: 'gateway',
    publicKey: toBase64Url(exportEd25519PublicKey(gatewayKey.publicKey)),
    notBefore: '2020-01-01T00:00:00Z',
  },
  {
    kid: retiredKey.kid,
    service: 'gateway',
    publicKey: toBase64Url(exportEd25519PublicKey(retiredKey.publicKey)),
    notBefore: '2020-01-01T00:00:00Z',
    notAfter: '2024-01-01T00:00:00Z',
  },
];
const message = (value: unknown, subject = `audit.events.${tenantId}`) => ({
  subject,
  data: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});

describe('checking incoming audit events', () => {
  const checker = new IncomingChecker(trusted);

  it('accepts a well-signed event and gives its canonical form, leaf hash and columns', () => {
    const envelope = signedTestEvent(gatewayKey, tenantId);
    const result = checker.check(message(envelope));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.columns).toMatchObject({
      tenantId,
      eventId: envelope.event.id,
      outcome: 'success',
      source: 'gateway',
    });
    expect(JSON.parse(result.canonical)).toEqual(envelope);
    // Built by concatenation for speed, it must be exactly the RFC 8785 form.
    expect(result.canonical).toBe(canonicalJson(envelope));
    expect(result.leafHash).toHaveLength(32);
  });

  it.each([
    ['not JSON', () => message('{{'), 'MALFORMED'],
    [
      'unsigned',
      () => message({ event: signedTestEvent(gatewayKey, tenantId).event }),
      'MALFORMED',
    ],
    [
      'an unknown key',
      () => message(signedTestEvent(generateSigningKey('mallory'), tenantId)),
      'UNKNOWN_KEY',
    ],
    [
      'a forged signature',
      () => {
        const envelope = signedTestEvent(gatewayKey, tenantId);
        return message({ ...envelope, event: { ...envelope.event, outcome: 'denied' } });
      },
      'SIGNATURE_INVALID',
    ],
    [
      'another tenant’s subject',
      () => message(signedTestEvent(gatewayKey, tenantId), `audit.events.${randomUUID()}`),
      'TENANT_MISMATCH',
    ],
    [
      'a key claiming another service',
      () => message(signedTestEvent(gatewayKey, tenantId, { source: 'vault-proxy' })),
      'KEY_SERVICE_MISMATCH',
    ],
    [
      // No RFC 8785 form: it must be refused like any malformed event, never fail the batch.
      'an event with a lone surrogate',
      () => {
        const envelope = signedTestEvent(gatewayKey, tenantId);
        return message({ ...envelope, event: { ...envelope.event, rationale: 'x\ud800' } });
      },
      'MALFORMED',
    ],
    ['a retired key', () => message(signedTestEvent(retiredKey, tenantId)), 'KEY_NOT_VALID'],
    [
      'a key used before its time',
      () => message(signedTestEvent(gatewayKey, tenantId, { occurredAt: '2019-06-01T00:00:00Z' })),
      'KEY_NOT_VALID',
    ],
  ] as const)('quarantines %s with a coded reason', (_name, build, reason) => {
    const result = checker.check(build());
    expect(result).toMatchObject({ ok: false, reason });
  });

  it('keeps the ids it can read from a malformed event, for the quarantine record', () => {
    const envelope = signedTestEvent(gatewayKey, tenantId);
    const result = checker.check(
      message({ event: { ...envelope.event, outcome: 'maybe' }, signature: envelope.signature }),
    );
    expect(result).toMatchObject({
      ok: false,
      reason: 'MALFORMED',
      tenantId,
      eventId: envelope.event.id,
    });
  });
});

describe('the verifier pool (worker threads)', () => {
  let pool: VerifierPool;
  beforeAll(async () => {
    pool = await VerifierPool.create(2, trusted);
  });
  afterAll(() => pool.close());

  it('returns the same verdicts as inline checking, in message order', async () => {
    const messages = Array.from({ length: 101 }, (_, index) =>
      index % 10 === 3
        ? message(signedTestEvent(generateSigningKey(), tenantId))
        : message(signedTestEvent(gatewayKey, tenantId)),
    );
    const inline = new IncomingChecker(trusted);
    const results = await pool.check(messages);
    expect(results.map((result) => result.ok)).toEqual(
      messages.map((item) => inline.check(item).ok),
    );
    expect(results.filter((result) => !result.ok)).toHaveLength(10);
  });

  it('takes a new key registry', async () => {
    const newcomer = generateSigningKey('gateway-2');
    const envelope = message(signedTestEvent(newcomer, tenantId));
    expect((await pool.check([envelope, envelope]))[0]).toMatchObject({
      ok: false,
      reason: 'UNKNOWN_KEY',
    });
    pool.updateKeys([
      ...trusted,
      {
        kid: newcomer.kid,
        service: 'gateway',
        publicKey: toBase64Url(exportEd25519PublicKey(newcomer.publicKey)),
        notBefore: '2020-01-01T00:00:00Z',
      },
    ]);
    expect((await pool.check([envelope, envelope]))[1]).toMatchObject({ ok: true });
  });
});
