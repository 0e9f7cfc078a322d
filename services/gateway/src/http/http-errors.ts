import { HttpException, HttpStatus } from '@nestjs/common';
import { ContractError, type ErrorCode, type RpcErrorBody } from '@heroagent/contracts';

/**
 * The HTTP status of each error code. The switch is exhaustive: a code added to the contracts
 * does not compile until it is given a status here.
 */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_REQUEST':
    case 'ACTION_UNKNOWN':
    case 'OAUTH_STATE_INVALID':
      return HttpStatus.BAD_REQUEST;
    case 'UNAUTHENTICATED':
    case 'SIGNATURE_INVALID':
    case 'CAPABILITY_INVALID':
    case 'CAPABILITY_EXPIRED':
      return HttpStatus.UNAUTHORIZED;
    case 'FORBIDDEN':
    case 'CAPABILITY_REVOKED':
    case 'ACTION_NOT_ALLOWED':
    case 'POLICY_DENIED':
    case 'SCOPE_NOT_GRANTED':
    case 'CSRF_INVALID':
    case 'OAUTH_DENIED':
      return HttpStatus.FORBIDDEN;
    case 'NOT_FOUND':
    case 'CONNECTION_NOT_FOUND':
    case 'INVITATION_INVALID':
      return HttpStatus.NOT_FOUND;
    case 'CONFLICT':
    case 'IDEMPOTENCY_CONFLICT':
    case 'CONNECTION_REVOKED':
    case 'CONNECTION_BROKEN':
      return HttpStatus.CONFLICT;
    case 'TENANT_PAUSED':
      return HttpStatus.LOCKED;
    case 'RATE_LIMITED':
      return HttpStatus.TOO_MANY_REQUESTS;
    case 'PROVIDER_UNAVAILABLE':
    case 'UPSTREAM_FAILED':
      return HttpStatus.BAD_GATEWAY;
    case 'UNAVAILABLE':
    case 'SECRETS_UNAVAILABLE':
    case 'MODEL_UNAVAILABLE':
      return HttpStatus.SERVICE_UNAVAILABLE;
    case 'TIMEOUT':
      return HttpStatus.GATEWAY_TIMEOUT;
    case 'INTERNAL':
      return HttpStatus.INTERNAL_SERVER_ERROR;
    default: {
      const unmapped: never = code;
      throw new Error(`no HTTP status for ${String(unmapped)}`);
    }
  }
}

/** The code for a status that Nest, Express or body-parser produced without one of ours. */
function codeOfStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 400 && status < 500) return 'INVALID_REQUEST';
  if (status === 503) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/** What any thrown value becomes on the wire: a status and `{ code, message }`, no stack. */
export function toHttpError(error: unknown): { status: number; body: RpcErrorBody } {
  if (error instanceof ContractError) {
    return { status: httpStatusOf(error.code), body: error.toBody() };
  }
  // Express and body-parser errors (malformed JSON, a bad percent-encoding, an oversized body),
  // whether Nest wrapped them in an HttpException or not: a fixed message, never the parser's.
  const cause = error instanceof HttpException ? (error.cause ?? error) : error;
  const status =
    error instanceof HttpException
      ? error.getStatus()
      : (cause as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500 && cause !== error) {
    return { status, body: { code: codeOfStatus(status), message: readFailure(cause) } };
  }
  if (error instanceof HttpException) {
    const code = codeOfStatus(error.getStatus());
    const message =
      error.getStatus() >= 500
        ? 'internal error'
        : error.getStatus() === 413
          ? 'the request body is too large'
          : publicMessage(error);
    return { status: error.getStatus(), body: { code, message } };
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { code: codeOfStatus(status), message: readFailure(cause) } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' } };
}

function publicMessage(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  return typeof message === 'string' ? message : error.message;
}

/** What a request that could not be read is told. */
function readFailure(cause: unknown): string {
  const type = (cause as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') return 'the request body is too large';
  if (type === 'entity.parse.failed' || cause instanceof SyntaxError) {
    return 'the request body is not valid JSON';
  }
  if (cause instanceof URIError) return 'the request path is not validly encoded';
  return 'the request could not be read';
}
