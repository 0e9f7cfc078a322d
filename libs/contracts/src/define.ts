import type { z } from 'zod';
import type { ServiceName } from './common.js';
import type { ErrorCode } from './errors.js';

/** A request/reply message: the subject, both schemas and the codes it may fail with, bound together. */
export interface RpcContract<
  TSubject extends string = string,
  TRequest extends z.ZodType = z.ZodType,
  TResponse extends z.ZodType = z.ZodType,
> {
  readonly kind: 'rpc';
  readonly subject: TSubject;
  readonly request: TRequest;
  readonly response: TResponse;
  /** Codes beyond the transport ones (INVALID_REQUEST, INTERNAL, UNAVAILABLE, TIMEOUT). */
  readonly errors: readonly ErrorCode[];
  /**
   * The services that may call it. The answering side replies only on a reply subject under one
   * of their inboxes (`_INBOX.<caller>.`), so a caller cannot make it publish anywhere else.
   */
  readonly callers: readonly ServiceName[];
  readonly description: string;
}

/** A published event: the subject (a function of its routing key where it has one) and the payload schema. */
export interface EventContract<
  TSubjectPattern extends string = string,
  TPayload extends z.ZodType = z.ZodType,
> {
  readonly kind: 'event';
  /** The wildcard subject a consumer subscribes to. */
  readonly subjectPattern: TSubjectPattern;
  readonly payload: TPayload;
  readonly description: string;
}

/** Binds one RPC's subject, schemas and error codes so that none can drift from the others. */
export function defineRpc<
  TSubject extends string,
  TRequest extends z.ZodType,
  TResponse extends z.ZodType,
>(
  definition: Omit<RpcContract<TSubject, TRequest, TResponse>, 'kind'>,
): RpcContract<TSubject, TRequest, TResponse> {
  assertSubject(definition.subject);
  if (definition.callers.length === 0) {
    throw new Error(`contract ${definition.subject} names no caller: nobody could call it`);
  }
  return Object.freeze({
    kind: 'rpc',
    ...definition,
    callers: Object.freeze([...definition.callers]),
  });
}

/** Binds one event's subject pattern and payload schema. */
export function defineEvent<TSubjectPattern extends string, TPayload extends z.ZodType>(
  definition: Omit<EventContract<TSubjectPattern, TPayload>, 'kind'>,
): EventContract<TSubjectPattern, TPayload> {
  return Object.freeze({ kind: 'event', ...definition });
}

/** The validated request type of an RPC contract. */
export type RpcRequest<C extends RpcContract> = z.output<C['request']>;
/** What a caller passes before validation (defaults not yet applied). */
export type RpcRequestInput<C extends RpcContract> = z.input<C['request']>;
/** The response type of an RPC contract. */
export type RpcResponse<C extends RpcContract> = z.output<C['response']>;
/** The payload type of an event contract. */
export type EventPayload<C extends EventContract> = z.output<C['payload']>;

function assertSubject(subject: string): void {
  // <service>.<entity>.<verb>: lower-case tokens, no wildcards.
  if (!/^[a-z][a-z-]*(\.[a-z][a-z_-]*){2,}$/.test(subject)) {
    throw new Error(`contract subject "${subject}" is not of the form <service>.<entity>.<verb>`);
  }
}
