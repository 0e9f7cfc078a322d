import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@heroagent/telemetry';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Nest's logger interface over the redacting pino logger, so framework messages (bootstrap,
 * routes, transport status) come out as the same structured, redacted lines as ours.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    // Nest passes the context (a class name) last, and for errors a stack before it.
    const context =
      params.length > 0 && typeof params.at(-1) === 'string'
        ? (params.at(-1) as string)
        : undefined;
    const stack =
      level === 'error' && params.length === 2 && typeof params[0] === 'string'
        ? params[0]
        : undefined;
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      const { msg, ...rest } = message as Record<string, unknown>;
      this.logger[level]({ ...fields, ...rest }, typeof msg === 'string' ? msg : '');
    } else {
      this.logger[level](stack === undefined ? fields : { ...fields, stack }, String(message));
    }
  }
}
