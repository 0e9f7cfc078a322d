import { Logger } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { ContractError, TRANSPORT_ERROR_CODES, type RpcContract } from '@heroagent/contracts';

const logger = new Logger('RpcErrors');

/**
 * Turns whatever a handler threw into the only thing that may cross NATS: `{ code, message }`
 * (and `issues` for bad input). A code the contract does not list, or an error that is not a
 * ContractError, is a bug: it is logged here and the caller sees INTERNAL, never a stack trace.
 */
export function toRpcException(error: unknown, contract: RpcContract): RpcException {
  if (error instanceof ContractError) {
    const allowed =
      (TRANSPORT_ERROR_CODES as readonly string[]).includes(error.code) ||
      contract.errors.includes(error.code);
    if (allowed) return new RpcException(error.toBody());
    logger.error(`${contract.subject} threw ${error.code}, which its contract does not list`);
  } else {
    logger.error(
      `unexpected error in ${contract.subject}`,
      error instanceof Error ? error.stack : undefined,
    );
  }
  return new RpcException(new ContractError('INTERNAL', `${contract.subject} failed`).toBody());
}
