import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { signedAuditEventSchema, type ServiceName } from '@heroagent/contracts';
import { CryptoError, ed25519PublicKeyFromRaw, fromBase64Url } from '@heroagent/crypto';
import { leafHash, signedEventForms, type SignedEventForms } from './hashing.js';

/** Why an incoming event is quarantined instead of chained. */
export type QuarantineReason =
  | 'MALFORMED'
  | 'UNKNOWN_KEY'
  | 'KEY_NOT_VALID'
  | 'KEY_SERVICE_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'TENANT_MISMATCH'
  | 'DUPLICATE_CONFLICT'
  | 'CHAIN_CORRUPT';

/** A service signing key the audit service trusts, with the period it may sign in. */
export interface TrustedKey {
  readonly kid: string;
  readonly service: ServiceName;
  /** base64url of the raw 32-byte Ed25519 public key. */
  readonly publicKey: string;
  readonly notBefore: string;
  readonly notAfter?: string;
}

/** A message as it came off the stream. */
export interface IncomingMessage {
  readonly subject: string;
  readonly data: Uint8Array;
}

/** The columns the store indexes, taken from a verified event. */
export interface EventColumns {
  readonly tenantId: string;
  readonly eventId: string;
  readonly occurredAt: string;
  readonly name: string;
  readonly source: string;
  readonly userId: string | null;
  readonly taskId: string | null;
  readonly action: string | null;
  readonly outcome: string;
}

/** The verdict on one incoming message. */
export type CheckedMessage =
  | {
      readonly ok: true;
      readonly columns: EventColumns;
      readonly canonical: string;
      readonly leafHash: Uint8Array;
    }
  | {
      readonly ok: false;
      readonly reason: QuarantineReason;
      readonly detail: string;
      readonly tenantId?: string;
      readonly eventId?: string;
    };

interface CompiledKey {
  readonly key: TrustedKey;
  readonly publicKey: KeyObject;
  readonly notBefore: number;
  readonly notAfter: number;
}

const SUBJECT = /^audit\.events\.([0-9a-f-]{36})$/;

/**
 * Checks incoming audit messages against the key registry: well-formed, addressed to the tenant
 * they name, signed by a known key of the service they claim, within the key's validity, and the
 * signature verifies over the canonical event. Pure and synchronous, so it runs alike on the event
 * loop or in worker threads.
 */
export class IncomingChecker {
  private readonly keys = new Map<string, CompiledKey>();

  constructor(keys: readonly TrustedKey[]) {
    for (const key of keys) {
      const raw = fromBase64Url(key.publicKey);
      if (raw === undefined) throw new Error(`key ${key.kid} is not base64url`);
      this.keys.set(key.kid, {
        key,
        publicKey: ed25519PublicKeyFromRaw(raw),
        notBefore: Date.parse(key.notBefore),
        notAfter: key.notAfter === undefined ? Number.POSITIVE_INFINITY : Date.parse(key.notAfter),
      });
    }
  }

  check(message: IncomingMessage): CheckedMessage {
    let json: unknown;
    try {
      json = JSON.parse(
        Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength).toString(
          'utf8',
        ),
      );
    } catch {
      return { ok: false, reason: 'MALFORMED', detail: 'the message is not JSON' };
    }
    const parsed = signedAuditEventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const ids = looseIds(json);
      return {
        ok: false,
        reason: 'MALFORMED',
        detail: `not a signed audit event: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
        ...ids,
      };
    }
    const { event, signature } = parsed.data;
    const ids = { tenantId: event.tenantId, eventId: event.id };
    const subjectTenant = SUBJECT.exec(message.subject)?.[1];
    if (subjectTenant !== event.tenantId) {
      return {
        ok: false,
        reason: 'TENANT_MISMATCH',
        detail: `published on ${message.subject} for tenant ${event.tenantId}`,
        ...ids,
      };
    }
    const compiled = this.keys.get(signature.kid);
    if (compiled === undefined) {
      return {
        ok: false,
        reason: 'UNKNOWN_KEY',
        detail: `no registered key ${signature.kid}`,
        ...ids,
      };
    }
    if (compiled.key.service !== event.source) {
      return {
        ok: false,
        reason: 'KEY_SERVICE_MISMATCH',
        detail: `${event.source} event signed by a ${compiled.key.service} key`,
        ...ids,
      };
    }
    const at = Date.parse(event.occurredAt);
    if (!(at >= compiled.notBefore && at < compiled.notAfter)) {
      return {
        ok: false,
        reason: 'KEY_NOT_VALID',
        detail: `key ${signature.kid} was not valid at ${event.occurredAt}`,
        ...ids,
      };
    }
    let forms: SignedEventForms;
    try {
      forms = signedEventForms(parsed.data);
    } catch (error) {
      // A lone surrogate has no RFC 8785 form: refused like any malformed event, so that one
      // message can never fail (and endlessly redeliver) the whole batch.
      if (!(error instanceof CryptoError)) throw error;
      return {
        ok: false,
        reason: 'MALFORMED',
        detail: 'the event has no canonical JSON form',
        ...ids,
      };
    }
    const { canonical, signed } = forms;
    const sig = fromBase64Url(signature.sig);
    if (sig?.length !== 64 || !verifySignature(null, signed, compiled.publicKey, sig)) {
      return {
        ok: false,
        reason: 'SIGNATURE_INVALID',
        detail: `the signature by ${signature.kid} does not verify`,
        ...ids,
      };
    }
    return {
      ok: true,
      canonical,
      leafHash: leafHash(Buffer.from(canonical, 'utf8')),
      columns: {
        tenantId: event.tenantId,
        eventId: event.id,
        occurredAt: event.occurredAt,
        name: event.name,
        source: event.source,
        userId: event.userId ?? null,
        taskId: event.taskId ?? null,
        action: event.action ?? null,
        outcome: event.outcome,
      },
    };
  }
}

/** Tenant and event ids from a message that failed validation, when they can be read at all. */
function looseIds(json: unknown): { tenantId?: string; eventId?: string } {
  const event = (json as { event?: { tenantId?: unknown; id?: unknown } } | null)?.event;
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  return {
    ...(typeof event?.tenantId === 'string' && uuid.test(event.tenantId)
      ? { tenantId: event.tenantId }
      : {}),
    ...(typeof event?.id === 'string' && uuid.test(event.id) ? { eventId: event.id } : {}),
  };
}
