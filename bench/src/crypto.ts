// What the platform's cryptography costs per action: signing and verifying an audit event, its
// canonical form, sealing a token to vault-proxy's key, and envelope-encrypting a field.
import { randomBytes } from 'node:crypto';
import { AUDIT_EVENT_PURPOSE, auditEventSchema, type AuditEvent } from '@heroagent/contracts';
import {
  canonicalJson,
  decryptValue,
  encryptValue,
  generateDataKey,
  generateSealingKey,
  generateSigningKey,
  keyRing,
  open,
  seal,
  signJson,
  verifyJson,
  type SealContext,
} from '@heroagent/crypto';
import { loadBenchConfig } from './config.js';
import { printMachine, printOperations, printTimedPlan } from './report.js';
import { compareOpsPerSecond } from './timing.js';

const config = loadBenchConfig();
printMachine('crypto primitives per action');
printTimedPlan(config);

const ring = keyRing(new Map([[1, generateDataKey()]]));
const fieldContext = 'tenant:7d1c3f2e-5b8a-4c6d-9e0f-1a2b3c4d5e6f/audit_events/data';

// An audit event as a service records one after an action, its PII already ciphertext.
const event: AuditEvent = auditEventSchema.parse({
  id: '0b0c6d3e-8f1a-4b2c-9d3e-4f5a6b7c8d9e',
  tenantId: '7d1c3f2e-5b8a-4c6d-9e0f-1a2b3c4d5e6f',
  occurredAt: '2026-11-24T12:00:00.000Z',
  name: 'action.executed',
  source: 'gateway',
  actor: { type: 'agent', id: 'agent:7d1c3f2e' },
  userId: '3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b',
  taskId: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
  action: 'calendar.events.create',
  outcome: 'success',
  rationale: 'Bob is free on Tuesday at noon; inviting him to lunch as asked.',
  policy: { effect: 'allow', policyId: 'tenant-default', reason: 'calendar writes are allowed' },
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  data: {
    eventId: 'evt_01HZX3Q2J7K8M9N0P1Q2R3S4T5',
    attendees: encryptValue(Buffer.from('bob@example.com, ada@example.com'), ring, fieldContext),
    summary: encryptValue(Buffer.from('Lunch with Bob'), ring, fieldContext),
    location: encryptValue(Buffer.from('Cafe Rosa, 12 Market Street'), ring, fieldContext),
    startsAt: '2026-11-25T12:00:00Z',
    durationMinutes: 60,
  },
});
const signingKey = generateSigningKey('gateway-2026-11');
const resolveKey = (kid: string) => (kid === signingKey.kid ? signingKey.publicKey : undefined);
const signature = signJson(event, AUDIT_EVENT_PURPOSE, signingKey);
const eventBytes = Buffer.byteLength(canonicalJson(event));

const vaultKey = generateSealingKey();
const sealContext: SealContext = {
  sender: 'vault-proxy',
  recipient: 'gateway',
  purpose: 'vault.token',
};
const token = randomBytes(2_048);
const sealed = seal(token, vaultKey.publicKey, sealContext);

const field = randomBytes(1_024);
const encrypted = encryptValue(field, ring, fieldContext);

// Each pair is checked once before timing, so a broken primitive cannot print a fast figure.
verifyJson(event, AUDIT_EVENT_PURPOSE, signature, resolveKey);
if (!open(sealed, vaultKey, sealContext).equals(token)) throw new Error('open ≠ seal');
if (!decryptValue(encrypted, ring, fieldContext).equals(field))
  throw new Error('decrypt ≠ encrypt');

const cases: { name: string; bytes: number; operation: () => unknown }[] = [
  { name: 'canonicalJson(audit event)', bytes: eventBytes, operation: () => canonicalJson(event) },
  {
    name: 'signJson(audit event)',
    bytes: eventBytes,
    operation: () => signJson(event, AUDIT_EVENT_PURPOSE, signingKey),
  },
  {
    name: 'verifyJson(audit event)',
    bytes: eventBytes,
    operation: () => verifyJson(event, AUDIT_EVENT_PURPOSE, signature, resolveKey),
  },
  {
    name: 'signJson + verifyJson',
    bytes: eventBytes,
    operation: () =>
      verifyJson(
        event,
        AUDIT_EVENT_PURPOSE,
        signJson(event, AUDIT_EVENT_PURPOSE, signingKey),
        resolveKey,
      ),
  },
  {
    name: 'seal(token) to an X25519 key',
    bytes: token.byteLength,
    operation: () => seal(token, vaultKey.publicKey, sealContext),
  },
  {
    name: 'open(sealed token)',
    bytes: token.byteLength,
    operation: () => open(sealed, vaultKey, sealContext),
  },
  {
    name: 'encryptValue(field) AES-256-GCM',
    bytes: field.byteLength,
    operation: () => encryptValue(field, ring, fieldContext),
  },
  {
    name: 'decryptValue(field)',
    bytes: field.byteLength,
    operation: () => decryptValue(encrypted, ring, fieldContext),
  },
];

const rates = await compareOpsPerSecond(
  cases.map((entry) => entry.operation),
  { durationMs: config.caseMs, rounds: config.rounds },
);
printOperations(
  'op',
  cases.map(({ name, bytes }, index) => ({ name, bytes, perSecond: rates[index]! })),
);
