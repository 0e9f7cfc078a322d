import { randomUUID } from 'node:crypto';
import type { Msg } from '@nats-io/nats-core';
import type { ConsumerDeserializer, IncomingEvent, IncomingRequest } from '@nestjs/microservices';

/** Stands in for a payload that was not JSON, so the handler can answer INVALID_REQUEST. */
export const MALFORMED_PAYLOAD: unique symbol = Symbol('heroagent.malformed-payload');

/**
 * Reads requests from Nest clients (`{ pattern, data, id }`) and from plain NATS clients alike.
 * Nest's own deserializer drops a request that is not JSON (the caller waits for a timeout) and
 * treats a plain request as an event (no reply); here, every request that reaches it gets an
 * answer. (`ContractNatsServer` has already dropped those whose reply subject is not under an
 * allowed caller's inbox, and those without one.)
 */
export class ContractRequestDeserializer implements ConsumerDeserializer {
  deserialize(
    message: Msg,
    options?: { channel?: string; replyTo?: string },
  ): IncomingRequest | IncomingEvent {
    let decoded: unknown;
    try {
      decoded = message.json();
    } catch {
      decoded = MALFORMED_PAYLOAD;
    }
    const replyTo = options?.replyTo ?? message.reply;
    if (isNestPacket(decoded)) {
      return replyTo && decoded.id === undefined ? { ...decoded, id: randomUUID() } : decoded;
    }
    const pattern = options?.channel ?? message.subject;
    return replyTo ? { pattern, data: decoded, id: randomUUID() } : { pattern, data: decoded };
  }
}

function isNestPacket(value: unknown): value is { pattern: string; data: unknown; id?: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { pattern?: unknown }).pattern === 'string' &&
    'data' in value &&
    ((value as { id?: unknown }).id === undefined ||
      typeof (value as { id?: unknown }).id === 'string')
  );
}
