import type { MsgHdrs } from '@nats-io/nats-core';
import { Ctx, MessagePattern, Payload, type NatsContext } from '@nestjs/microservices';
import {
  ContractError,
  toValidationIssues,
  type RpcContract,
  type RpcRequest,
  type RpcResponse,
} from '@heroagent/contracts';
import { extractTraceContext, withNatsSpan } from '@heroagent/telemetry';
import { registerRpcContract } from './contract-registry.js';
import { MALFORMED_PAYLOAD } from './deserializer.js';
import { toRpcException } from './errors.js';
import { serviceOfSubject } from './subjects.js';

type ContractMethod<C extends RpcContract> = (
  request: RpcRequest<C>,
  context: NatsContext,
) => Promise<RpcResponse<C>> | RpcResponse<C>;

/**
 * Binds a controller method to one RPC contract. The method is subscribed to the contract's
 * subject and typed by it; every incoming message is validated against the request schema
 * (bad input is answered `INVALID_REQUEST` with the issues, the method is not called), the answer
 * is validated against the response schema, errors become coded replies, and the work runs in a
 * SERVER span continuing the caller's trace. The contract's callers decide which reply subjects
 * the server answers on (see `ContractNatsServer`).
 */
export function RpcHandler<C extends RpcContract>(contract: C) {
  return function bind<M extends ContractMethod<C>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M> {
    const method = descriptor.value;
    if (method === undefined)
      throw new Error(`@RpcHandler(${contract.subject}) must decorate a method`);
    registerRpcContract(contract);
    async function handle(
      this: unknown,
      data: unknown,
      context: NatsContext,
    ): Promise<RpcResponse<C>> {
      const headers = context?.getHeaders?.() as MsgHdrs | undefined;
      return withNatsSpan(
        {
          kind: 'server',
          subject: contract.subject,
          service: serviceOfSubject(contract.subject),
          parent: extractTraceContext(headers),
        },
        async () => {
          try {
            const request = parseRequest(contract, data);
            const response: unknown = await method!.call(this, request, context);
            const checked = contract.response.safeParse(response);
            if (!checked.success) {
              throw new Error(`response does not match the contract: ${checked.error.message}`);
            }
            return checked.data as RpcResponse<C>;
          } catch (error) {
            throw toRpcException(error, contract);
          }
        },
      );
    }
    descriptor.value = handle as unknown as M;
    // Nest passes a handler only the arguments it declares: declare the payload and the context
    // (which carries the NATS headers, and with them the caller's trace).
    Payload()(target, propertyKey, 0);
    Ctx()(target, propertyKey, 1);
    MessagePattern(contract.subject)(target, propertyKey, descriptor);
    return descriptor;
  };
}

function parseRequest<C extends RpcContract>(contract: C, data: unknown): RpcRequest<C> {
  if (data === MALFORMED_PAYLOAD) {
    throw new ContractError('INVALID_REQUEST', `${contract.subject}: the message is not JSON`, [
      { path: '(root)', message: 'expected a JSON document' },
    ]);
  }
  const parsed = contract.request.safeParse(data);
  if (!parsed.success) {
    throw new ContractError(
      'INVALID_REQUEST',
      `${contract.subject}: the request does not match its contract`,
      toValidationIssues(parsed.error),
    );
  }
  return parsed.data as RpcRequest<C>;
}
