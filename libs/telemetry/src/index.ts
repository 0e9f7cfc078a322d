export { startTelemetry, type Telemetry, type TelemetryOptions } from './sdk.js';
export {
  injectTraceContext,
  extractTraceContext,
  withNatsSpan,
  runInSpan,
  activeTraceId,
  type HeaderCarrier,
  type MessagingSpanKind,
} from './propagation.js';
export { httpServerSpans } from './http.js';
export {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
  type LoggerOptions,
} from './logger.js';
export { redactSecrets, redactString, isSecretField, REDACTED } from './redact.js';
export { heroagentCounter, type Counter } from './metrics.js';
