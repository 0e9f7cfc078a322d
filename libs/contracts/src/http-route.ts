import type { z } from 'zod';
import type { TenantRole } from './audit-records.js';
import type { ErrorCode } from './errors.js';

/**
 * Who may call an HTTP route: anyone (`public`), anyone signed in (`signed-in`), or someone
 * signed in whose role in their current tenant is one of those listed.
 */
export type RouteAccess = 'public' | 'signed-in' | { readonly roles: readonly TenantRole[] };

/** What a route answers when it succeeds. */
export type RouteOutcome<TResponse extends z.ZodType> =
  | { readonly kind: 'json'; readonly status: 200 | 201; readonly schema: TResponse }
  | { readonly kind: 'no-content' }
  | { readonly kind: 'redirect' }
  /**
   * A file streamed as it is produced (200, `content-disposition: attachment`): its length is
   * unknown up front, and a failure after the first byte aborts the connection rather than
   * ending it, so a cut-off download never looks complete.
   */
  | { readonly kind: 'download'; readonly contentType: string };

/**
 * One HTTP route of the gateway: method, path, who may call it, the schemas of its path
 * parameters, query and body, what it answers and the codes it may fail with, bound together.
 * The gateway serves exactly these (a handler without one is refused), validates input with them,
 * and builds its OpenAPI description from them; the console imports them.
 */
export interface HttpRoute<
  TParams extends z.ZodType = z.ZodType,
  TQuery extends z.ZodType = z.ZodType,
  TBody extends z.ZodType = z.ZodType,
  TResponse extends z.ZodType = z.ZodType,
> {
  readonly kind: 'http';
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Express-style path: `/v1/tenant/members/:userId`. */
  readonly path: string;
  readonly summary: string;
  readonly access: RouteAccess;
  readonly params?: TParams;
  readonly query?: TQuery;
  readonly body?: TBody;
  readonly outcome: RouteOutcome<TResponse>;
  /** Codes beyond those every route may answer (INVALID_REQUEST, INTERNAL, RATE_LIMITED, …). */
  readonly errors: readonly ErrorCode[];
  /** Stricter rate limit (requests per minute per client address) than the default. */
  readonly rateLimitPerMinute?: number;
}

/** Binds one HTTP route's path, access, schemas, outcome and error codes. */
export function defineRoute<
  TParams extends z.ZodType,
  TQuery extends z.ZodType,
  TBody extends z.ZodType,
  TResponse extends z.ZodType,
>(
  definition: Omit<HttpRoute<TParams, TQuery, TBody, TResponse>, 'kind'>,
): HttpRoute<TParams, TQuery, TBody, TResponse> {
  if (!/^(\/[a-z0-9.-]+|\/:[a-zA-Z]+)+$/.test(definition.path)) {
    throw new Error(`route path "${definition.path}" is not of the form /v1/segment/:param`);
  }
  const named = [...definition.path.matchAll(/:([a-zA-Z]+)/g)].map((match) => match[1]);
  if (named.length > 0 && definition.params === undefined) {
    throw new Error(`route ${definition.id} has path parameters but no params schema`);
  }
  if (definition.body !== undefined && definition.method === 'GET') {
    throw new Error(`route ${definition.id} is a GET with a body`);
  }
  return Object.freeze({ kind: 'http', ...definition });
}

/** The validated input of a route. */
export interface RouteInput<R extends HttpRoute> {
  readonly params: OutputOf<R['params']>;
  readonly query: OutputOf<R['query']>;
  readonly body: OutputOf<R['body']>;
}

/** A part's parsed type; a part without a schema is undefined. */
type OutputOf<S> = [Exclude<S, undefined>] extends [never]
  ? undefined
  : Exclude<S, undefined> extends z.ZodType
    ? z.output<Exclude<S, undefined>>
    : undefined;

/** The response body type of a JSON route. */
export type RouteResponse<R extends HttpRoute> =
  Extract<R['outcome'], { kind: 'json' }> extends { schema: infer S extends z.ZodType }
    ? z.output<S>
    : void;
