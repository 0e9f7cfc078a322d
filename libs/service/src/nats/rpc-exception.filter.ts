import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { ContractError, rpcErrorSchema } from '@heroagent/contracts';

/**
 * The last line behind {@link RpcHandler}: anything that escapes a handler (a guard, an
 * interceptor, a handler not bound to a contract) still answers `{ code, message }`, never Nest's
 * bare "Internal server error".
 */
@Catch()
export class CodedRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger(CodedRpcExceptionFilter.name);

  catch(exception: unknown): Observable<never> {
    if (exception instanceof RpcException) {
      const body = rpcErrorSchema.safeParse(exception.getError());
      if (body.success) return throwError(() => body.data);
    }
    this.logger.error(
      'uncoded error escaped an RPC handler',
      exception instanceof Error ? exception.stack : undefined,
    );
    return throwError(() => new ContractError('INTERNAL', 'internal error').toBody());
  }
}
