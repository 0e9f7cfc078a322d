// One agent action end to end next to a raw NATS request/reply on the same nats-server: the agent
// calls gateway.actions.execute for gmail.messages.search; the real gateway checks the capability
// and the policy, records the action and its audit event (outbox) in Postgres, asks the real
// vault-proxy for a token (signed grant, sealed answer; vault-proxy's cache holds the token after
// the first call), calls the Gmail double over loopback HTTP and answers; its relay publishes the
// audit events to a JetStream stream on `audit.events.*`.
//
// Tokens: the account is connected through the gateway's real sign-in and connect flows against
// the OIDC provider double, so vault-proxy holds a refresh token that double issued and refreshes
// it there. The double does not say which access tokens it issued, so vault-proxy's token URL is a
// small recording relay in front of the double's: it passes every request through unchanged and
// registers each access token in the answer with the Gmail double (as Google would know it). The
// relay counts refreshes, which shows the measured actions were served from vault-proxy's cache.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { executeAction, type RpcRequestInput } from '@heroagent/contracts';
import {
  exportEd25519Seed,
  exportX25519PrivateKey,
  generateSealingKey,
  generateSigningKey,
  toBase64Url,
} from '@heroagent/crypto';
import { createTestDatabase } from '@heroagent/db/testing';
import { GmailDouble, OidcProviderDouble, TestBrowser } from '@heroagent/doubles';
import {
  GATEWAY_JOBS,
  gatewayConfigSchema,
  migrations as gatewayMigrations,
  Sealer,
  startGateway,
} from '@heroagent/gateway';
import { ContractClient, natsEnvSchema, parseConfig } from '@heroagent/service';
import { freePort, startNatsServer } from '@heroagent/service/testing';
import { createLogger } from '@heroagent/telemetry';
import { startBenchVaultProxy, startMountedVault } from './vault-proxy-bench.js';
import { loadBenchConfig } from './config.js';
import { ECHO_PAYLOAD, RAW_ECHO_SUBJECT } from './nats-echo.js';
import { formatCount, formatMicros, formatRatio, printMachine, printTable } from './report.js';
import { summarize, type LatencySummary } from './stats.js';
import { concurrentSeconds, sequentialLatencies, warmUp } from './timing.js';

const GMAIL_READ = 'https://www.googleapis.com/auth/gmail.readonly';
const STREAM = 'BENCH_GATEWAY_AUDIT';
const config = loadBenchConfig();
const { requests, throughputRequests } = config.action;
const warmup = Math.min(config.warmup, 200);
const concurrency = config.concurrency;
const silent = (service: string) => createLogger({ service, level: 'silent' });

printMachine('gmail.messages.search through the gateway vs raw NATS request/reply');

// ---- Infrastructure: nats-server with JetStream, Postgres, Vault double --------------------------
const nats = await startNatsServer({ jetstream: true });
const raw = await connect({ servers: nats.url });
const streams = await jetstreamManager(raw);
await streams.streams.add({ name: STREAM, subjects: ['audit.events.*'] });
const database = await createTestDatabase();
const vault = await startMountedVault();

// ---- Provider doubles: OIDC (sign-in, connect, refresh) and Gmail ---------------------------------
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const provider = await OidcProviderDouble.start({
  redirectUris: [`${origin}/v1/auth/google/callback`, `${origin}/v1/connections/google/callback`],
});
const gmail = await GmailDouble.start();
const mailbox = { sub: 'sub-bench-mailbox', email: 'mailbox@bench.example', name: 'Mailbox' };
for (let index = 1; index <= 5; index += 1) {
  gmail.addMessage({
    account: mailbox.email,
    from: `sender${index}@corp.example`,
    to: mailbox.email,
    subject: `Invoice ${index}`,
    body: `Please pay invoice ${index}.`,
  });
}
const tokenRelay = await startTokenRelay(provider.tokenUrl, (accessToken) =>
  gmail.allowToken(accessToken, [GMAIL_READ], mailbox.email),
);

// ---- The services, with distinct keys ------------------------------------------------------------
const gatewaySigning = generateSigningKey();
const gatewaySealing = generateSealingKey();
const vaultProxy = await startBenchVaultProxy({
  database,
  natsUrl: nats.url,
  vault,
  gateway: { signing: gatewaySigning, sealing: gatewaySealing },
  google: {
    OAUTH_GOOGLE_CLIENT_ID: provider.clientId,
    OAUTH_GOOGLE_CLIENT_SECRET: provider.clientSecret,
    OAUTH_GOOGLE_ISSUER: provider.issuer,
    OAUTH_GOOGLE_TOKEN_URL: tokenRelay.url,
    OAUTH_GOOGLE_REVOKE_URL: provider.revocationUrl,
  },
});
const gatewayDb = await database.provisionService('gateway', { jobs: GATEWAY_JOBS });
await gatewayDb.migrate(gatewayMigrations);
const gateway = await startGateway(
  gatewayConfigSchema.parse({
    HEROAGENT_ENV: 'test',
    DATABASE_URL: gatewayDb.runtimeUrl,
    DATABASE_RELAY_URL: gatewayDb.jobUrls.relay,
    DATABASE_SWEEPER_URL: gatewayDb.jobUrls.sweeper,
    NATS_URL: nats.url,
    NATS_REQUEST_TIMEOUT_MS: '20000',
    HTTP_PORT: String(port),
    PUBLIC_URL: origin,
    SERVICE_SIGNING_KEY: toBase64Url(exportEd25519Seed(gatewaySigning.privateKey)),
    SERVICE_SEALING_KEY: toBase64Url(exportX25519PrivateKey(gatewaySealing.privateKey)),
    OAUTH_GOOGLE_CLIENT_ID: provider.clientId,
    OAUTH_GOOGLE_AUTHORIZE_URL: provider.authorizeUrl,
    GMAIL_API_ROOT_URL: gmail.rootUrl,
    HTTP_TRUST_PROXY_HOPS: '1',
  }),
  silent('gateway'),
);

// ---- People, each with a tenant, the connected mailbox and a task, through the gateway's HTTP API --
// The default policy stops a person's agent after 1,000 actions in a day (no tenant permit lifts
// it), so the actions are spread round-robin over enough people to stay under it.
const PER_PERSON = 900;
const people = Math.ceil((1 + warmup + requests + throughputRequests) / PER_PERSON);
const toThePage = (location: URL) =>
  location.origin === origin && !location.pathname.startsWith('/v1/');

/** Signs a new person in, connects the mailbox and starts a task; returns its capability. */
async function startTask(person: number): Promise<string> {
  const browser = new TestBrowser();
  const email = `owner${person}@bench.example`;
  provider.nextUser({ sub: `sub-bench-owner-${person}`, email, name: `Owner ${person}` });
  await browser.follow(`${origin}/v1/auth/google/start?returnTo=%2Fwelcome`, toThePage);
  provider.nextUser(mailbox);
  await browser.follow(`${origin}/v1/connections/google/start?scopes=gmail.read`, toThePage);
  const session = await browser.fetch(`${origin}/v1/session`);
  const { csrfToken } = (await session.json()) as { csrfToken: string };
  const listed = await browser.fetch(`${origin}/v1/connections`);
  const { connections } = (await listed.json()) as {
    connections: { id: string; account: string }[];
  };
  const connection = connections.find((candidate) => candidate.account === mailbox.email);
  if (connection === undefined) throw new Error(`${email}: the Google connection was not made`);
  const task = await browser.fetch(`${origin}/v1/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: JSON.stringify({
      title: 'Find invoices',
      actions: ['gmail.messages.search'],
      connectionId: connection.id,
    }),
  });
  if (!task.ok) throw new Error(`${email}: no task: ${task.status} ${await task.text()}`);
  return ((await task.json()) as { capability: string }).capability;
}
const capabilities: string[] = [];
for (let person = 1; person <= people; person += 1) capabilities.push(await startTask(person));

// ---- The two callers ------------------------------------------------------------------------------
const responder = await connect({ servers: nats.url });
responder.subscribe(RAW_ECHO_SUBJECT, {
  callback: (error, message) => {
    if (error === null) message.respond(JSON.stringify(message.json()));
  },
});
await responder.flush();
const rawEcho = async () => {
  const reply = await raw.request(RAW_ECHO_SUBJECT, JSON.stringify(ECHO_PAYLOAD), {
    timeout: 20_000,
  });
  return reply.json();
};
const agent = ContractClient.create(
  parseConfig(natsEnvSchema, { NATS_URL: nats.url, NATS_REQUEST_TIMEOUT_MS: '20000' }),
  'agent',
);
await agent.connect();
// The contract types params per action at run time; statically they are an open record.
const SEARCH: Record<string, unknown> = { query: 'subject:Invoice' };
let calls = 0;
const searchInvoices = async (capability = capabilities[calls++ % capabilities.length]!) => {
  const answer = await agent.request(executeAction, {
    capability,
    action: 'gmail.messages.search',
    params: SEARCH as Record<string, never>,
    idempotencyKey: `bench-${randomUUID()}`,
    rationale: 'Looking for the invoices the person asked about.',
  } satisfies RpcRequestInput<typeof executeAction>);
  if (answer.status !== 'completed') throw new Error(`the search is ${answer.status}`);
  return answer;
};

// ---- Measure ---------------------------------------------------------------------------------------
interface Row {
  readonly latency: LatencySummary;
  readonly perSecond: number;
}
const cells = (name: string, { latency, perSecond }: Row) => [
  name,
  formatMicros(latency.p50),
  formatMicros(latency.p99),
  formatMicros(latency.mean),
  formatCount(perSecond),
];
const measure = async (call: () => Promise<unknown>): Promise<Row> => {
  await warmUp(call, warmup);
  const latency = summarize(await sequentialLatencies(call, requests));
  const seconds = await concurrentSeconds(call, throughputRequests, concurrency);
  return { latency, perSecond: throughputRequests / seconds };
};

// One untimed action per person first: vault-proxy refreshes each connection's token once here.
let found = 0;
for (const capability of capabilities) {
  const first = await searchInvoices(capability);
  found = (first.result as { messages: unknown[] }).messages.length;
}
const refreshesBefore = tokenRelay.refreshes;
const rawRow = await measure(rawEcho);
const actionRow = await measure(searchInvoices);
const refreshesDuring = tokenRelay.refreshes - refreshesBefore;
const sealing = await measureSealing(searchInvoices, requests);
const actions = people + warmup + requests + throughputRequests;
const auditMessages = (await streams.streams.info(STREAM)).state.messages;

console.log(
  'gateway and vault-proxy in this process; OIDC and Gmail doubles on loopback HTTP; one' +
    ' nats-server (JetStream) and Postgres on loopback. An action: capability check, Cedar policy,' +
    ' action + audit rows in Postgres, signed token grant to vault-proxy (cached token, sealed),' +
    ` Gmail search over HTTP (${found} messages back), the result to the agent`,
);
console.log(
  `latency: ${formatCount(requests)} sequential requests each after ${formatCount(warmup)} warm-up;` +
    ` throughput: ${formatCount(throughputRequests)} requests, ${concurrency} in flight; actions` +
    ` round-robin over ${people} people (tenants), each with its own task and connection\n`,
);
printTable(
  ['path', 'p50 µs', 'p99 µs', 'mean µs', 'req/s'],
  [
    cells('raw nats.js request → echo subscription', rawRow),
    cells('agent → gateway.actions.execute (gmail.messages.search)', actionRow),
  ],
);
console.log(
  `\naction p50 / raw p50: ${formatRatio(actionRow.latency.p50 / rawRow.latency.p50)};` +
    ` raw req/s ÷ action req/s: ${formatRatio(rawRow.perSecond / actionRow.perSecond)}`,
);
console.log(
  `sealing and opening personal data (AES-256-GCM with the person's data key, cached): per action` +
    ` p50 ${formatMicros(sealing.latency.p50)} µs, p99 ${formatMicros(sealing.latency.p99)} µs` +
    ` (${sealing.seals} seals, ${sealing.opens} opens per action) = ` +
    `${((100 * sealing.latency.p50) / actionRow.latency.p50).toFixed(1)}% of the action's p50`,
);
console.log(
  `token refreshes at the provider during the measured runs: ${refreshesDuring}` +
    ` (${tokenRelay.refreshes} in all; vault-proxy served its cached token);` +
    ` audit events in the JetStream stream so far: ${formatCount(auditMessages)}` +
    ` (for ${formatCount(actions)} actions; the relay publishes behind the answers)`,
);

// ---- Clean up ------------------------------------------------------------------------------------
await agent.close();
await responder.close();
await gateway.close();
await vaultProxy.close();
await raw.close();
await nats.stop();
await database.drop();
await gmail.close();
await tokenRelay.close();
await provider.close();
await vault.close();

/**
 * The time one action spends sealing and opening personal data (its parameters, rationale,
 * result and audit fields), measured inside the gateway's Sealer over `count` sequential actions:
 * the per-action sum, and how many seals and opens an action makes.
 */
async function measureSealing(call: () => Promise<unknown>, count: number) {
  // Wrapped in place for this measurement, and put back after it.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply below
  const seal = Sealer.prototype.seal;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply below
  const open = Sealer.prototype.open;
  let spent = 0n;
  let seals = 0;
  let opens = 0;
  Sealer.prototype.seal = function (this: Sealer, ...args: Parameters<typeof seal>) {
    const start = process.hrtime.bigint();
    try {
      return seal.apply(this, args);
    } finally {
      spent += process.hrtime.bigint() - start;
      seals += 1;
    }
  };
  Sealer.prototype.open = function (this: Sealer, ...args: Parameters<typeof open>) {
    const start = process.hrtime.bigint();
    try {
      return open.apply(this, args);
    } finally {
      spent += process.hrtime.bigint() - start;
      opens += 1;
    }
  };
  const perAction: number[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
      spent = 0n;
      await call();
      perAction.push(Number(spent) / 1000);
    }
  } finally {
    Sealer.prototype.seal = seal;
    Sealer.prototype.open = open;
  }
  return { latency: summarize(perAction), seals: seals / count, opens: opens / count };
}

/**
 * An HTTP relay in front of the provider's token endpoint: passes each request through as it is and
 * hands every access token in an answer to `issued`, counting refresh-token grants.
 */
async function startTokenRelay(target: string, issued: (accessToken: string) => void) {
  let refreshes = 0;
  const relay = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (new URLSearchParams(body).get('grant_type') === 'refresh_token') refreshes += 1;
    const headers = new Headers();
    for (const name of ['content-type', 'authorization', 'accept']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    const answer = await fetch(target, { method: request.method ?? 'POST', headers, body });
    const text = await answer.text();
    if (answer.ok) {
      const token = (JSON.parse(text) as { access_token?: unknown }).access_token;
      if (typeof token === 'string') issued(token);
    }
    response.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/json',
    });
    response.end(text);
  };
  const server = createServer((request, response) => {
    relay(request, response).catch((error: unknown) => {
      response.writeHead(502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'server_error', error_description: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    get refreshes() {
      return refreshes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
