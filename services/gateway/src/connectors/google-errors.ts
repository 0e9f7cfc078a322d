import { ConnectorError, type ConnectorFailure } from '../actions/connector.js';

/** What a Google API error means for the gateway (gaxios errors carry the response status). */
export function googleFailure(error: unknown): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const response = (error as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  const status = typeof response?.status === 'number' ? response.status : undefined;
  const reason = JSON.stringify(response?.data ?? '').includes('rateLimitExceeded');
  const failure: ConnectorFailure =
    status === undefined
      ? 'unavailable'
      : status === 401
        ? 'unauthorized'
        : status === 403 && reason
          ? 'unavailable'
          : status === 403
            ? 'forbidden'
            : status === 404 || status === 410
              ? 'not_found'
              : status === 409 || status === 412
                ? 'conflict'
                : status === 429 || status >= 500
                  ? 'unavailable'
                  : 'failed';
  const message =
    status === undefined ? 'the provider could not be reached' : `the provider answered ${status}`;
  return new ConnectorError(failure, message);
}
