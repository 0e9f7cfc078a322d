import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

/** Anything that carries string headers: NATS `MsgHdrs`, a plain record wrapper, … */
export interface HeaderCarrier {
  get(key: string): string | undefined | null;
  set(key: string, value: string): void;
}

const TRACER_NAME = '@heroagent/telemetry';

/** Writes the active trace context (`traceparent`, `tracestate`, `baggage`) into outgoing headers. */
export function injectTraceContext(carrier: HeaderCarrier, from: Context = context.active()): void {
  propagation.inject(from, carrier, {
    set: (target, key, value) => target.set(key, value),
  });
}

/** Reads the trace context a caller sent; without headers, a fresh root context. */
export function extractTraceContext(carrier: HeaderCarrier | undefined): Context {
  if (carrier === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier, {
    get: (target, key) => {
      const value = target.get(key);
      return value === null || value === '' ? undefined : value;
    },
    keys: () => ['traceparent', 'tracestate', 'baggage'],
  });
}

/** The spans a HeroAgent service makes around a message or a request. */
export type MessagingSpanKind = 'client' | 'server' | 'producer' | 'consumer';

const KINDS: Record<MessagingSpanKind, SpanKind> = {
  client: SpanKind.CLIENT,
  server: SpanKind.SERVER,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/**
 * Runs `fn` inside a span named after the NATS subject, following the OTel messaging conventions.
 * The span ends, and records the error, however `fn` ends.
 */
export async function withNatsSpan<T>(
  options: {
    kind: MessagingSpanKind;
    subject: string;
    service: string;
    parent?: Context;
    attributes?: Attributes;
  },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const operation = options.kind === 'client' || options.kind === 'producer' ? 'send' : 'process';
  return runInSpan(
    `${operation} ${options.subject}`,
    KINDS[options.kind],
    {
      'messaging.system': 'nats',
      'messaging.destination.name': options.subject,
      'messaging.operation.type': operation,
      'heroagent.service': options.service,
      ...options.attributes,
    },
    options.parent ?? context.active(),
    fn,
  );
}

/** Runs `fn` inside a span of the given kind; the span records an exception and ends either way. */
export async function runInSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  parent: Context,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    const code = errorCodeOf(error);
    span.setAttribute('error.type', code ?? (error instanceof Error ? error.name : 'unknown'));
    throw error;
  } finally {
    span.end();
  }
}

/** The current trace id, for log lines and audit events; undefined outside a sampled span. */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

function errorCodeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    return typeof error.code === 'string' ? error.code : undefined;
  }
  return undefined;
}
