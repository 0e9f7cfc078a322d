import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Controller, Injectable, Module, type INestMicroservice } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ContractError, defineRpc, type RpcRequest } from '@heroagent/contracts';
import { createLogger } from '@heroagent/telemetry';
import {
  ContractClient,
  RpcHandler,
  inboxPrefixOf,
  natsEnvSchema,
  parseConfig,
  startMicroservice,
} from '../src/index.js';

// Unique subjects per run: this file shares the machine's NATS server with other test files.
const run = randomBytes(4)
  .toString('hex')
  .replace(/[0-9]/g, (digit) => 'abcdefghij'[Number(digit)]!);

const greet = defineRpc({
  subject: `agent.greet_${run}.run`,
  request: z.strictObject({
    name: z.string().min(1).max(20),
    mode: z.enum(['ok', 'denied', 'unlisted', 'crash', 'bad-answer', 'slow']).default('ok'),
  }),
  response: z.object({ greeting: z.string() }),
  errors: ['POLICY_DENIED'],
  callers: ['gateway'],
  description: 'test contract',
});
const silent = defineRpc({
  subject: `agent.silent_${run}.run`,
  request: z.object({}),
  response: z.object({}),
  errors: [],
  callers: ['gateway'],
  description: 'nobody answers this',
});

@Injectable()
class Greeter {
  calls = 0;
  greet(name: string) {
    this.calls += 1;
    return `hello ${name}`;
  }
}

@Controller()
class GreetHandler {
  // Constructor injection by type: proves decorator metadata survives the test toolchain.
  constructor(private readonly greeter: Greeter) {}

  @RpcHandler(greet)
  async handle(request: RpcRequest<typeof greet>) {
    switch (request.mode) {
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return { greeting: 'too late' };
      case 'denied':
        throw new ContractError('POLICY_DENIED', 'policy tenant-default denied it');
      case 'unlisted':
        throw new ContractError('CONNECTION_REVOKED', 'not a code this contract lists');
      case 'crash':
        throw new Error('database password is hunter2 at /srv/app.js:12');
      case 'bad-answer':
        return { greeting: 42 } as unknown as { greeting: string };
      default:
        return { greeting: this.greeter.greet(request.name) };
    }
  }
}

@Module({ controllers: [GreetHandler], providers: [Greeter] })
class TestModule {}

describe('contract-bound RPC over the real NATS server', () => {
  const nats = parseConfig(natsEnvSchema, { NATS_REQUEST_TIMEOUT_MS: '1500' });
  const logger = createLogger({ service: 'agent', level: 'silent' });
  let app: INestMicroservice;
  let client: ContractClient;
  let raw: NatsConnection;

  beforeAll(async () => {
    app = await startMicroservice({ service: 'agent', module: TestModule, nats, logger });
    client = ContractClient.create(nats, 'gateway');
    // A plain NATS client, asking as the gateway would: its replies under the gateway's inbox.
    raw = await connect({ servers: nats.NATS_URL, inboxPrefix: inboxPrefixOf('gateway') });
  });
  afterAll(async () => {
    await client?.close();
    await raw?.close();
    await app?.close();
  });

  it('answers a valid request through the injected service', async () => {
    await expect(client.request(greet, { name: 'Ada' })).resolves.toEqual({
      greeting: 'hello Ada',
    });
  });

  it('answers bad input with INVALID_REQUEST and the issues, without calling the handler', async () => {
    const greeter = app.get(Greeter);
    const before = greeter.calls;
    const reply = await raw.request(greet.subject, JSON.stringify({ name: '', extra: true }), {
      timeout: 2000,
    });
    const body = reply.json<{ err: { code: string; issues: { path: string }[] } }>();
    expect(body.err.code).toBe('INVALID_REQUEST');
    expect(body.err.issues.map((issue) => issue.path).sort()).toEqual(['(root)', 'name']);
    expect(greeter.calls).toBe(before);
  });

  it('answers a message that is not JSON with INVALID_REQUEST instead of leaving it unanswered', async () => {
    const reply = await raw.request(greet.subject, 'not json {', { timeout: 2000 });
    expect(reply.json<{ err: { code: string } }>().err.code).toBe('INVALID_REQUEST');
  });

  it('answers a plain NATS request (not a Nest packet) like any other', async () => {
    const reply = await raw.request(greet.subject, JSON.stringify({ name: 'Grace' }), {
      timeout: 2000,
    });
    expect(reply.json<{ response: unknown }>().response).toEqual({ greeting: 'hello Grace' });
  });

  it('passes a listed error code through to the caller', async () => {
    await expect(client.request(greet, { name: 'x', mode: 'denied' })).rejects.toMatchObject({
      code: 'POLICY_DENIED',
      message: 'policy tenant-default denied it',
    });
  });

  it('turns an unlisted code, a crash and an answer outside the contract into INTERNAL, leaking nothing', async () => {
    for (const mode of ['unlisted', 'crash', 'bad-answer'] as const) {
      const error = await client
        .request(greet, { name: 'x', mode })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ContractError);
      expect(error).toMatchObject({ code: 'INTERNAL' });
      expect(JSON.stringify(error)).not.toMatch(/hunter2|srv\/app|at /);
      expect((error as Error).message).not.toMatch(/hunter2|Internal server error/);
    }
  });

  it('refuses to send a request that breaks the contract', async () => {
    await expect(client.request(greet, { name: 'a'.repeat(50) })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      issues: [{ path: 'name' }],
    });
  });

  it('reports UNAVAILABLE at once when no service answers the subject', async () => {
    await expect(client.request(silent, {}, { timeoutMs: 5000 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
  });

  it('reports TIMEOUT when the answer does not come in time', async () => {
    await expect(
      client.request(greet, { name: 'x', mode: 'slow' }, { timeoutMs: 200 }),
    ).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
  });
});
