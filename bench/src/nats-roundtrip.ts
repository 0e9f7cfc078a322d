// NATS request/reply on one server, in one run: raw nats.js, Nest's bare ClientProxy, and the
// platform's contract layer (ContractClient → @RpcHandler) with tracing off and on. The steps
// separate what Nest costs from what validation and tracing cost.
import 'reflect-metadata';
import { connect } from '@nats-io/transport-node';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { ContractClient, PLATFORM_VERSION, startMicroservice } from '@heroagent/service';
import { createLogger, startTelemetry, type Telemetry } from '@heroagent/telemetry';
import { loadBenchConfig } from './config.js';
import { measureInterleaved, type PathResult, type RequestPath } from './interleaved.js';
import {
  BARE_ECHO_SUBJECT,
  BareEchoModule,
  ECHO_PAYLOAD,
  EchoModule,
  RAW_ECHO_SUBJECT,
  echo,
} from './nats-echo.js';
import {
  formatCount,
  formatMicros,
  formatMicrosDelta,
  formatRatio,
  printMachine,
  printTable,
} from './report.js';

const config = loadBenchConfig();
const servers = config.nats.NATS_URL.split(',').map((server) => server.trim());

printMachine('NATS request/reply: raw nats.js vs Nest vs the contract layer');
console.log(
  `server ${servers.join(',')}; payload ${Buffer.byteLength(JSON.stringify(ECHO_PAYLOAD))} bytes` +
    ` of JSON; per path ${formatCount(config.warmup)} warm-up requests, then in ${config.rounds}` +
    ` interleaved rounds ${formatCount(config.requests)} sequential requests and` +
    ` ${formatCount(config.throughputRequests)} with ${config.concurrency} in flight`,
);

// (a) raw nats.js: one connection answers, another asks; both sides parse and write JSON, as an
// application would.
const responder = await connect({ servers });
responder.subscribe(RAW_ECHO_SUBJECT, {
  callback: (error, message) => {
    if (error === null) message.respond(JSON.stringify(message.json()));
  },
});
await responder.flush();
const rawClient = await connect({ servers });

// (b, c) Nest: the microservice started as every service starts it (reply guard included), and
// beside it a bare Nest microservice on Nest's own NATS server, for the bare path.
const logger = createLogger({ service: 'agent', level: 'silent' });
const app = await startMicroservice({
  service: 'agent',
  module: EchoModule,
  nats: config.nats,
  logger,
});
const bareApp = await NestFactory.createMicroservice(BareEchoModule, {
  transport: Transport.NATS,
  options: { servers },
  logger: false,
});
await bareApp.listen();
const proxy = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers } });
await proxy.connect();
const client = ContractClient.create(config.nats, 'gateway');
await client.connect();

// As the services run: the OpenTelemetry SDK started, spans recorded, no exporter configured.
// Started only for its own path's turns, so the other paths run without it.
let telemetry: Telemetry | undefined;
const paths: RequestPath[] = [
  {
    name: 'raw nats.js: request → subscription',
    call: async () => {
      const reply = await rawClient.request(RAW_ECHO_SUBJECT, JSON.stringify(ECHO_PAYLOAD), {
        timeout: config.nats.NATS_REQUEST_TIMEOUT_MS,
      });
      return reply.json();
    },
  },
  {
    name: 'Nest ClientProxy.send → @MessagePattern',
    call: () => firstValueFrom(proxy.send<unknown>(BARE_ECHO_SUBJECT, ECHO_PAYLOAD)),
  },
  {
    name: 'ContractClient → @RpcHandler, no tracing SDK',
    call: () => client.request(echo, ECHO_PAYLOAD),
  },
  {
    name: 'ContractClient → @RpcHandler, tracing SDK on',
    call: () => client.request(echo, ECHO_PAYLOAD),
    enter: () => {
      telemetry = startTelemetry({
        serviceName: 'heroagent-bench',
        serviceVersion: PLATFORM_VERSION,
        environment: 'development',
      });
    },
    leave: () => telemetry?.shutdown(),
  },
];

try {
  const results = await measureInterleaved(
    paths,
    {
      expected: ECHO_PAYLOAD,
      warmup: config.warmup,
      requests: config.requests,
      throughputRequests: config.throughputRequests,
      concurrency: config.concurrency,
      rounds: config.rounds,
    },
    (round) => console.log(`round ${round} of ${config.rounds} …`),
  );
  printResults(results);
} finally {
  await client.close();
  await proxy.close();
  await app.close();
  await bareApp.close();
  await rawClient.close();
  await responder.close();
}

function printResults(rows: readonly PathResult[]): void {
  const raw = rows[0]!;
  console.log(
    `\nlatency: ${formatCount(config.requests)} sequential requests per path, in µs;` +
      ` throughput: ${formatCount(config.throughputRequests)} requests, ${config.concurrency} in flight\n`,
  );
  printTable(
    ['path', 'p50 µs', 'p99 µs', 'mean µs', 'req/s', 'p50/raw', 'p99/raw', 'req/s ÷ raw'],
    rows.map((row) => [
      row.name,
      formatMicros(row.latency.p50),
      formatMicros(row.latency.p99),
      formatMicros(row.latency.mean),
      formatCount(row.perSecond),
      formatRatio(row.latency.p50 / raw.latency.p50),
      formatRatio(row.latency.p99 / raw.latency.p99),
      formatRatio(row.perSecond / raw.perSecond),
    ]),
  );
  const [, bare, contract, traced] = rows;
  if (bare === undefined || contract === undefined || traced === undefined) return;
  const added = (from: PathResult, to: PathResult) =>
    formatMicrosDelta(to.latency.p50 - from.latency.p50);
  console.log('\nadded to the p50 of one request:');
  console.log(`  Nest transport over raw nats.js:              ${added(raw, bare)}`);
  console.log(`  contract layer (validation, trace headers):   ${added(bare, contract)}`);
  console.log(`  tracing SDK (a span on each side):            ${added(contract, traced)}`);
}
