import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { extractTraceContext } from './propagation.js';

/**
 * Express-style middleware that wraps each HTTP request in a SERVER span, continuing a trace the
 * caller started (W3C `traceparent`). The span is named `METHOD route` once the route is known.
 */
export function httpServerSpans(service: string) {
  const tracer = trace.getTracer('@heroagent/telemetry');
  return (
    request: IncomingMessage & { route?: { path?: unknown } },
    response: ServerResponse,
    next: () => void,
  ): void => {
    const parent = extractTraceContext({
      get: (key) => {
        const value = request.headers[key];
        return Array.isArray(value) ? value[0] : value;
      },
      set: () => undefined,
    });
    const method = request.method ?? 'GET';
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_URL_PATH]: path,
          'heroagent.service': service,
        },
      },
      parent,
    );
    response.once('finish', () => {
      const route = request.route?.path;
      if (typeof route === 'string') {
        span.updateName(`${method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.statusCode);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
