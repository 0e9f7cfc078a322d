import { context, trace } from '@opentelemetry/api';
import {
  pino,
  stdTimeFunctions,
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Logger,
} from 'pino';
import { mirrorToOtlp } from './otlp-logs.js';
import { redactSecrets, redactString } from './redact.js';

/** The structured logger every HeroAgent process uses. */
export type { Logger } from 'pino';

/** Log levels from most to least verbose. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  readonly service: string;
  readonly level: LogLevel;
  /** Where lines go; standard output by default. */
  readonly destination?: DestinationStream;
  /**
   * Also send every line, as redacted as it is written, over OTLP (through the Logs API, to the
   * logs endpoint `startTelemetry` was given).
   */
  readonly otlp?: boolean;
}

/**
 * A pino logger that writes JSON lines with the service name and the active trace and span ids,
 * and redacts secrets: fields named like secrets (tokens, refresh tokens, keys, authorization,
 * cookies, passwords) and values shaped like them (bearer tokens, Google and Vault tokens, JWTs,
 * private keys, credentials in URLs), in the message, the bindings, the fields and errors. With
 * `otlp`, the same lines also leave over OTLP as log records.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  const logger = pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => redactSecrets(bindings) as Record<string, unknown>,
        log: (fields) => redactSecrets(fields) as Record<string, unknown>,
      },
      serializers: { err: redactError, error: redactError },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((arg: unknown) =>
            typeof arg === 'string' ? redactString(arg) : arg,
          );
          method.apply(this, cleaned as Parameters<typeof method>);
        },
        // Last line of defence: secret-shaped values anywhere in the finished line.
        streamWrite: redactString,
      },
      mixin() {
        const spanContext = trace.getSpan(context.active())?.spanContext();
        if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return {};
        return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
      },
    },
    options.otlp === true ? mirrorToOtlp(destination) : destination,
  );
  // pino does not pass a child's bindings through `formatters.bindings`; redact them here. Children
  // inherit this method from the root, so grandchildren are covered too.
  const originalChild: (bindings: Bindings, childOptions?: ChildLoggerOptions) => unknown =
    // eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with Reflect.apply below
    logger.child;
  Object.defineProperty(logger, 'child', {
    configurable: true,
    writable: true,
    value: function redactingChild(
      this: unknown,
      bindings: Bindings,
      childOptions?: ChildLoggerOptions,
    ) {
      return Reflect.apply(originalChild, this, [redactSecrets(bindings), childOptions]) as unknown;
    },
  });
  return logger;
}

// formatters.log has usually turned the error into a plain, redacted object already; an Error
// reaching here (a child's binding, say) is redacted the same way.
function redactError(error: unknown): unknown {
  return redactSecrets(error);
}
