import { randomBytes } from 'node:crypto';
import { Controller, Module } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { z } from 'zod';
import { actionTypeSchema, defineRpc, tenantIdSchema, type RpcRequest } from '@heroagent/contracts';
import { RpcHandler } from '@heroagent/service';

// Lower-case letters only, so the subjects fit the contract subject pattern. Unique per run: the
// machine's NATS server is shared with tests and other runs.
const RUN = Array.from(randomBytes(8), (byte) => String.fromCharCode(97 + (byte % 26))).join('');

/** The ~200-byte request every path sends and gets back. */
export const ECHO_PAYLOAD = {
  tenantId: '7d1c3f2e-5b8a-4c6d-9e0f-1a2b3c4d5e6f',
  action: 'calendar.events.create',
  idempotencyKey: 'task-42:step-3',
  rationale: 'Bob is free on Tuesday at noon; inviting him to lunch as asked.',
  attempt: 1,
  dryRun: false,
};

const echoPayloadSchema = z.strictObject({
  tenantId: tenantIdSchema,
  action: actionTypeSchema,
  idempotencyKey: z.string().min(8).max(128),
  rationale: z.string().min(1).max(2_000),
  attempt: z.number().int().min(1),
  dryRun: z.boolean(),
});

/** The contract the Nest handler answers: validated both ways, traced, coded errors. */
export const echo = defineRpc({
  subject: `agent.bench_${RUN}.echo`,
  request: echoPayloadSchema,
  response: echoPayloadSchema,
  errors: [],
  callers: ['gateway'],
  description: 'Benchmark: answers with the request.',
});

/**
 * Answered by a bare Nest `@MessagePattern` on Nest's own NATS server: no contract, no reply
 * guard, no validation, no span.
 */
export const BARE_ECHO_SUBJECT = `agent.bench_${RUN}.echo_bare`;
/** Answered by a raw nats.js subscription. */
export const RAW_ECHO_SUBJECT = `agent.bench_${RUN}.echo_raw`;

@Controller()
class EchoHandler {
  @RpcHandler(echo)
  echo(request: RpcRequest<typeof echo>): RpcRequest<typeof echo> {
    return request;
  }
}

@Controller()
class BareEchoHandler {
  @MessagePattern(BARE_ECHO_SUBJECT)
  echoBare(@Payload() data: unknown): unknown {
    return data;
  }
}

/** The Nest module the benchmark starts as a service's microservice. */
@Module({ controllers: [EchoHandler] })
export class EchoModule {}

/**
 * The bare handler's module, for a microservice on Nest's own NATS transport: the platform's
 * server answers no subject without a contract.
 */
@Module({ controllers: [BareEchoHandler] })
export class BareEchoModule {}
