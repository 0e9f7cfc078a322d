import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the Gmail and Calendar doubles share: an HTTP server on 127.0.0.1 that answers the way
 * Google's REST front end does — `Authorization: Bearer` access tokens checked against scopes,
 * errors as `{ error: { code, message, status, errors: [{ message, domain, reason }] } }` — plus
 * the knobs tests need (recorded requests, injected failures, latency).
 */

/** The account a token acts for when a test does not name one. */
export const DEFAULT_ACCOUNT = 'me@example.com';

/** Expands a short scope (`gmail.readonly`) to its URL; full URLs pass through unchanged. */
export function scopeUrl(scope: string): string {
  return scope.includes('://') ? scope : `https://www.googleapis.com/auth/${scope}`;
}

/** One request as the double received it, for assertions. */
export interface GoogleApiRequest {
  readonly method: string;
  /** The URL path, e.g. `/gmail/v1/users/me/messages`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body (a string when it was not JSON), or undefined when there was none. */
  readonly body: unknown;
  /** The bearer token sent, if any. */
  readonly token: string | undefined;
  /** The discovery method id it matched, e.g. `gmail.users.messages.list`. */
  readonly operation: string | undefined;
  /** The status the double answered with. */
  readonly status: number;
}

/** A request held unanswered by `holdNext` until the test lets it go. */
export interface HeldRequest {
  /** Settles once the held request has arrived (and is waiting). */
  readonly reached: Promise<void>;
  /** Lets it go on: it is then answered as usual. */
  release(): void;
}

/** An access token a test registered, with the scopes it was granted and whose it is. */
export interface GrantedToken {
  readonly token: string;
  readonly scopes: readonly string[];
  readonly account: string;
}

export interface ApiCall {
  /** The path parameters, URL-decoded, in order. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
  readonly grant: GrantedToken;
}

export interface ApiReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: RegExp;
  readonly operation: string;
  /** Any one of these scope URLs lets a token call the route. */
  readonly scopes: readonly string[];
  readonly handle: (call: ApiCall) => ApiReply;
}

interface ErrorDetail {
  readonly domain?: string;
  readonly location?: string;
  readonly locationType?: string;
  readonly status?: string;
  readonly details?: readonly unknown[];
  readonly headers?: Record<string, string>;
}

/** An error a route answers with, rendered in Google's JSON error shape. */
export class GoogleApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string,
    readonly detail: ErrorDetail = {},
  ) {
    super(message);
  }
}

// google.rpc.Code names Google puts in `error.status` for each HTTP status.
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'NOT_FOUND',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

// What Google says for the failures tests inject most.
const INJECTED_FAILURES: Record<number, { message: string; reason: string }> = {
  403: { message: 'User-rate limit exceeded.', reason: 'userRateLimitExceeded' },
  429: { message: 'Resource has been exhausted (e.g. check quota).', reason: 'rateLimitExceeded' },
  500: { message: 'Internal error encountered.', reason: 'backendError' },
  503: { message: 'The service is currently unavailable.', reason: 'backendError' },
};

const CREDENTIALS_HINT =
  'Expected OAuth 2 access token, login cookie or other valid authentication credential. ' +
  'See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/** Pages a list the way Google does: an opaque `pageToken` in, `nextPageToken` out. */
export function paginate<T>(
  items: readonly T[],
  pageToken: string | null,
  pageSize: number,
): { items: T[]; nextPageToken: string | undefined } {
  let offset = 0;
  if (pageToken !== null && pageToken !== '') {
    const match = /^offset:(\d+)$/.exec(Buffer.from(pageToken, 'base64url').toString('utf8'));
    if (match === null) throw new GoogleApiError(400, 'Invalid pageToken', 'invalidArgument');
    offset = Number(match[1]);
  }
  const end = offset + pageSize;
  return {
    items: items.slice(offset, end),
    nextPageToken:
      end < items.length ? Buffer.from(`offset:${end}`).toString('base64url') : undefined,
  };
}

/** Reads an integer query parameter; Google caps page sizes silently rather than failing. */
export function pageSize(query: URLSearchParams, fallback: number, max: number): number {
  const text = query.get('maxResults');
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new GoogleApiError(400, `Invalid value '${text}' for maxResults`, 'invalid');
  return Math.min(value === 0 ? fallback : value, max);
}

/** A base for Google API doubles: serving, authentication, recording and failure injection. */
export abstract class GoogleApiDouble {
  /** Every request received, in order, including the ones that failed. */
  readonly requests: GoogleApiRequest[] = [];
  /** Delay before each answer, to test timeouts and concurrency. */
  latencyMs = 0;
  private readonly tokens = new Map<string, GrantedToken>();
  private readonly failures: { code: number; message: string; reason: string }[] = [];
  private readonly holds: {
    operation: string | undefined;
    arrived: () => void;
    released: Promise<void>;
    release: () => void;
  }[] = [];
  // Every hold's release, so closing lets every held request go.
  private readonly releases: (() => void)[] = [];
  private introspect:
    | ((token: string) => Promise<{ scopes: readonly string[]; account: string } | undefined>)
    | undefined;
  private table: readonly ApiRoute[] = [];
  private server: Server | undefined;
  private port = 0;

  /** The host name of the real service, as Google names it in error details. */
  protected abstract readonly serviceName: string;

  protected abstract routes(): readonly ApiRoute[];

  /** Pass as the client's `rootUrl`; the clients append `gmail/v1/...` or `calendar/v3/...`. */
  get rootUrl(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /**
   * Accepts `token` as an access token for `account`, granted `scopes` (URLs, or short names
   * such as `gmail.readonly` that are expanded to `https://www.googleapis.com/auth/...`).
   */
  allowToken(token: string, scopes: readonly string[], account: string = DEFAULT_ACCOUNT): void {
    this.tokens.set(token, { token, scopes: scopes.map(scopeUrl), account });
  }

  /**
   * Looks up tokens this double was not told about with `introspect` (as Google's APIs ask
   * Google's token service): a platform test then uses the very tokens the OAuth double issued
   * to vault-proxy, with the scopes that were granted.
   */
  trustTokensFrom(
    introspect: (
      token: string,
    ) => Promise<{ scopes: readonly string[]; account: string } | undefined>,
  ): void {
    this.introspect = introspect;
  }

  /** Forgets a token, as if it expired or was revoked: it now earns 401. */
  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  /**
   * Makes the next request fail with `status` in Google's error shape, whatever it asks for.
   * Calls queue up: two calls fail the next two requests. The official clients retry 429 and
   * 5xx on GET, PUT and DELETE by themselves (three times, backing off from 100 ms).
   */
  failNext(status: number, reason?: string, message?: string): void {
    const known = INJECTED_FAILURES[status];
    this.failures.push({
      code: status,
      reason: reason ?? known?.reason ?? 'backendError',
      message: message ?? known?.message ?? 'Injected failure.',
    });
  }

  /**
   * Holds the next request for `operation` (a discovery method id), or the next request of any
   * kind, unanswered until `release()` — a provider call that hangs, for as long as the test
   * wants. The request is recorded once it is answered.
   */
  holdNext(operation?: string): HeldRequest {
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ operation, arrived, released, release });
    this.releases.push(release);
    return { reached, release };
  }

  /** How many requests matched `operation` (a discovery method id), or all requests. */
  callCount(operation?: string): number {
    return operation === undefined
      ? this.requests.length
      : this.requests.filter((request) => request.operation === operation).length;
  }

  async close(): Promise<void> {
    this.holds.splice(0);
    for (const release of this.releases.splice(0)) release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Accounts some registered token acts for. */
  protected knownAccounts(): Set<string> {
    return new Set([...this.tokens.values()].map((grant) => grant.account));
  }

  protected async listen(): Promise<void> {
    this.table = this.routes();
    const server = createServer((request, response) => this.receive(request, response));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  private receive(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => void this.answer(request, response, chunks));
  }

  private async answer(
    request: IncomingMessage,
    response: ServerResponse,
    chunks: Buffer[],
  ): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token !== undefined && !this.tokens.has(token) && this.introspect !== undefined) {
      const grant = await this.introspect(token).catch(() => undefined);
      if (grant !== undefined) this.allowToken(token, grant.scopes, grant.account);
    }
    const match = this.match(method, url.pathname);
    const held = this.holds.findIndex(
      (hold) => hold.operation === undefined || hold.operation === match?.route.operation,
    );
    if (held >= 0) {
      const [hold] = this.holds.splice(held, 1);
      hold!.arrived();
      await hold!.released;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    let reply: ApiReply;
    try {
      body = /json/i.test(request.headers['content-type'] ?? '')
        ? parseJson(text)
        : text || undefined;
      reply = this.dispatch(match, url.searchParams, request.headers, body, token);
    } catch (error) {
      reply = renderError(error, this.serviceName);
    }
    this.requests.push({
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
      token,
      operation: match?.route.operation,
      status: reply.status,
    });
    const send = () => {
      const json = reply.body === undefined ? '' : JSON.stringify(reply.body);
      response.writeHead(reply.status, {
        ...(json === '' ? {} : { 'content-type': 'application/json; charset=UTF-8' }),
        ...reply.headers,
      });
      response.end(json);
    };
    // A timer of 0 ms still waits a millisecond or more: answer at once unless latency is asked for.
    if (this.latencyMs > 0) setTimeout(send, this.latencyMs);
    else send();
  }

  private match(method: string, path: string): { route: ApiRoute; params: string[] } | undefined {
    for (const route of this.table) {
      const found = method === route.method ? route.path.exec(path) : null;
      if (found !== null)
        return { route, params: found.slice(1).map((param) => decodeURIComponent(param ?? '')) };
    }
    return undefined;
  }

  private dispatch(
    match: { route: ApiRoute; params: string[] } | undefined,
    query: URLSearchParams,
    headers: IncomingHttpHeaders,
    body: unknown,
    token: string | undefined,
  ): ApiReply {
    const failure = this.failures.shift();
    if (failure !== undefined)
      throw new GoogleApiError(failure.code, failure.message, failure.reason);
    if (match === undefined) throw new GoogleApiError(404, 'Not Found', 'notFound');
    const grant = this.authenticate(token, match.route);
    const record =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    return match.route.handle({ params: match.params, query, headers, body: record, grant });
  }

  private authenticate(token: string | undefined, route: ApiRoute): GrantedToken {
    const unauthenticated = (message: string, reason: string, info: string, error?: string) =>
      new GoogleApiError(401, message, reason, {
        location: 'Authorization',
        locationType: 'header',
        details: [this.errorInfo(info)],
        headers: {
          'www-authenticate': `Bearer realm="https://accounts.google.com/"${error === undefined ? '' : `, error="${error}"`}`,
        },
      });
    if (token === undefined)
      throw unauthenticated(
        `Request is missing required authentication credential. ${CREDENTIALS_HINT}`,
        'required',
        'CREDENTIALS_MISSING',
      );
    const grant = this.tokens.get(token);
    if (grant === undefined)
      throw unauthenticated(
        `Request had invalid authentication credentials. ${CREDENTIALS_HINT}`,
        'authError',
        'ACCESS_TOKEN_TYPE_UNSUPPORTED',
        'invalid_token',
      );
    if (!route.scopes.some((scope) => grant.scopes.includes(scope)))
      throw new GoogleApiError(
        403,
        'Request had insufficient authentication scopes.',
        'insufficientPermissions',
        {
          details: [this.errorInfo('ACCESS_TOKEN_SCOPE_INSUFFICIENT', route.operation)],
          headers: {
            'www-authenticate': `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${route.scopes.join(' ')}"`,
          },
        },
      );
    return grant;
  }

  private errorInfo(reason: string, method?: string): Record<string, unknown> {
    return {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason,
      domain: 'googleapis.com',
      metadata: { service: this.serviceName, ...(method === undefined ? {} : { method }) },
    };
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GoogleApiError(400, 'Invalid JSON payload received.', 'parseError');
  }
}

function renderError(error: unknown, serviceName: string): ApiReply {
  if (!(error instanceof GoogleApiError))
    return renderError(new GoogleApiError(500, String(error), 'backendError'), serviceName);
  const { domain, location, locationType, status, details, headers } = error.detail;
  return {
    status: error.code,
    headers,
    body: {
      error: {
        code: error.code,
        message: error.message,
        errors: [
          {
            message: error.message,
            domain: domain ?? 'global',
            reason: error.reason,
            ...(location === undefined ? {} : { location, locationType }),
          },
        ],
        status: status ?? STATUS_NAMES[error.code] ?? 'UNKNOWN',
        ...(details === undefined ? {} : { details }),
      },
    },
  };
}
