import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRpc, type ServiceName } from '@heroagent/contracts';
import {
  createLogger,
  httpServerSpans,
  startTelemetry,
  type Telemetry,
} from '@heroagent/telemetry';
import {
  ContractClient,
  RpcHandler,
  natsEnvSchema,
  parseConfig,
  startMicroservice,
} from '../src/index.js';

// One trace across four services, as an action will travel: HTTP → gateway → agent → vault-proxy
// → audit, every hop a real NATS request/reply with the trace context in its headers.
const run = randomBytes(4)
  .toString('hex')
  .replace(/[0-9]/g, (digit) => 'abcdefghij'[Number(digit)]!);
// Each hop is called by the one before it (the first by the gateway's HTTP edge).
const step = (prefix: string, caller: ServiceName) =>
  defineRpc({
    subject: `${prefix}.trace_${run}.step`,
    request: z.object({ hops: z.array(z.string()) }),
    response: z.object({ hops: z.array(z.string()) }),
    errors: [],
    callers: [caller],
    description: 'trace propagation test hop',
  });
const CHAIN: { service: ServiceName; contract: ReturnType<typeof step> }[] = [
  { service: 'gateway', contract: step('gateway', 'gateway') },
  { service: 'agent', contract: step('agent', 'gateway') },
  { service: 'vault-proxy', contract: step('vault', 'agent') },
  { service: 'audit', contract: step('audit', 'vault-proxy') },
];

const nats = parseConfig(natsEnvSchema, {});

/** A Nest microservice for one hop: it records itself and calls the next hop, if any. */
function hopModule(index: number, client: ContractClient | undefined) {
  const { contract } = CHAIN[index]!;
  const next = CHAIN[index + 1];
  @Controller()
  class HopHandler {
    @RpcHandler(contract)
    async handle(request: { hops: string[] }): Promise<{ hops: string[] }> {
      const hops = [...request.hops, CHAIN[index]!.service];
      if (next === undefined || client === undefined) return { hops };
      return client.request(next.contract, { hops });
    }
  }
  @Module({ controllers: [HopHandler] })
  class HopModule {}
  return HopModule;
}

describe('W3C trace context across NATS hops (in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  const apps: INestMicroservice[] = [];
  const clients: ContractClient[] = [];
  let http: Server;

  beforeAll(async () => {
    telemetry = startTelemetry({
      serviceName: 'trace-test',
      serviceVersion: '0.0.0',
      environment: 'test',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const logger = createLogger({ service: 'gateway', level: 'silent' });
    for (const [index, hop] of CHAIN.entries()) {
      const client =
        index < CHAIN.length - 1 ? ContractClient.create(nats, hop.service) : undefined;
      if (client) clients.push(client);
      apps.push(
        await startMicroservice({
          service: hop.service,
          module: hopModule(index, client),
          nats,
          logger,
        }),
      );
    }
    // The HTTP edge: a request enters through the same middleware the gateway uses.
    const edgeClient = ContractClient.create(nats, 'gateway');
    clients.push(edgeClient);
    const spans = httpServerSpans('gateway');
    http = createServer((request, response) => {
      spans(request, response, () => {
        edgeClient.request(CHAIN[0]!.contract, { hops: [] }).then(
          (answer) => response.end(JSON.stringify(answer)),
          () => {
            response.statusCode = 500;
            response.end();
          },
        );
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => http?.close(resolve));
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(apps.map((app) => app.close()));
    await telemetry?.shutdown();
  });

  it('links every hop as the child of the one before, in one trace', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { port } = http.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/act`, { headers: { traceparent } });
    expect(await response.json()).toEqual({ hops: ['gateway', 'agent', 'vault-proxy', 'audit'] });

    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const server = (service: string) =>
      spans.find(
        (span) =>
          span.kind === SpanKind.SERVER &&
          span.attributes['heroagent.service'] === service &&
          span.name !== 'GET',
      )!;
    const httpSpan = spans.find((span) => span.kind === SpanKind.SERVER && span.name === 'GET')!;
    const parentOf = (span: ReadableSpan) => byId.get(span.parentSpanContext?.spanId ?? '');

    // Everything belongs to the caller's trace, which the HTTP span continued.
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(
      new Set(['4bf92f3577b34da6a3ce929d0e0e4736']),
    );
    expect(httpSpan.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');

    // HTTP → client(gateway.*) → server(gateway) → client(agent.*) → server(agent) → …
    let upstream = httpSpan;
    for (const { service, contract } of CHAIN) {
      const handler = server(service);
      const client = parentOf(handler)!;
      expect(client.kind, service).toBe(SpanKind.CLIENT);
      expect(client.attributes['messaging.destination.name']).toBe(contract.subject);
      expect(parentOf(client), `${service}'s caller`).toBe(upstream);
      expect(handler.attributes['messaging.system']).toBe('nats');
      upstream = handler;
    }
  });
});
