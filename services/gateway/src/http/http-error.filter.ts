import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { Observable } from 'rxjs';
import { CodedRpcExceptionFilter } from '@heroagent/service';
import type { Logger } from '@heroagent/telemetry';
import { toHttpError } from './http-errors.js';

/**
 * The gateway's one error filter, for both of its transports: over HTTP every error leaves as JSON
 * `{ code, message }` (server errors logged, never echoed); over NATS as a coded RPC error.
 */
@Catch()
export class GatewayErrorFilter implements ExceptionFilter {
  private readonly rpc = new CodedRpcExceptionFilter();

  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() === 'rpc') return this.rpc.catch(exception);
    const response = host.switchToHttp().getResponse<Response>();
    const { status, body } = toHttpError(exception);
    if (status >= 500) this.logger.error({ err: exception }, 'request failed');
    // A download that already sent its first bytes cannot turn into an error: cut it off, so
    // it never looks complete.
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response.status(status).json(body);
  }
}
