// vault.tokens.issue end to end, as the gateway uses it: a signed grant over NATS to vault-proxy,
// the sealed answer opened. Once with the access token cached, once with every request refreshing
// against the OAuth provider double (the refresh-token grant over HTTP on loopback), with secrets
// in the Vault double (KV v2 over HTTP on loopback). And the gateway's own client: a token it keeps
// (one NATS round trip, to hear any change first), against the same client asking every time.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import {
  SEALED_TOKEN_PURPOSE,
  exchangeCode,
  issueToken,
  type RpcContract,
} from '@heroagent/contracts';
import {
  generateSealingKey,
  generateSigningKey,
  open,
  signJson,
  type JsonValue,
} from '@heroagent/crypto';
import { createTestDatabase } from '@heroagent/db/testing';
import { OAuthProviderDouble } from '@heroagent/doubles';
import { AccessTokenCache, VaultProxyClient } from '@heroagent/gateway';
import { ContractClient, natsEnvSchema, parseConfig } from '@heroagent/service';
import { startNatsServer } from '@heroagent/service/testing';
import { startBenchVaultProxy, startMountedVault } from './vault-proxy-bench.js';
import { loadBenchConfig } from './config.js';
import { formatCount, formatMicros, printMachine, printTable } from './report.js';
import { summarize } from './stats.js';
import { concurrentSeconds, sequentialLatencies, warmUp } from './timing.js';

const SCOPE = 'https://www.googleapis.com/auth/calendar.events';
const config = loadBenchConfig();
const requests = Math.min(config.requests, 2_000);
const throughputRequests = Math.min(config.throughputRequests, 4_000);

printMachine('vault.tokens.issue: a cached token, and a refresh against the OAuth double');

const vault = await startMountedVault();
const provider = await OAuthProviderDouble.start();
const nats = await startNatsServer();
const database = await createTestDatabase();
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
    OAUTH_GOOGLE_TOKEN_URL: provider.tokenUrl,
    OAUTH_GOOGLE_REVOKE_URL: provider.revokeUrl,
  },
});
const client = ContractClient.create(
  parseConfig(natsEnvSchema, { NATS_URL: nats.url, NATS_REQUEST_TIMEOUT_MS: '20000' }),
  'gateway',
);
await client.connect();
const tenantId = randomUUID();
const userId = randomUUID();

function signed<G extends Record<string, unknown>>(contract: RpcContract, grant: G) {
  const full = { ...grant, requestId: randomUUID(), issuedAt: new Date().toISOString() };
  return {
    grant: full,
    signature: signJson(full as unknown as JsonValue, contract.subject, gatewaySigning),
  };
}

/** Connects an account as the gateway's callback does: a code vault-proxy exchanges. */
async function connectAccount(expiresIn: number): Promise<string> {
  const codeVerifier = randomBytes(32).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const redirectUri = 'https://heroagent.example/v1/connections/google/callback';
  const code = provider.authorize({
    redirectUri,
    codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    nonce,
    scopes: ['openid', 'email', SCOPE],
    offline: true,
    email: `bench+${randomBytes(4).toString('hex')}@example.com`,
    refreshToken: provider.grant([SCOPE], { expiresIn }),
  });
  const answer = await client.request(
    exchangeCode,
    signed(exchangeCode, {
      provider: 'google',
      code,
      codeVerifier,
      redirectUri,
      nonce,
      intent: { purpose: 'connect', tenantId, userId, requestedScopes: [SCOPE] },
    }),
  );
  return answer.connection!.connection.id;
}

/** One request as the gateway makes it: sign, send, open the sealed token. */
async function issue(connectionId: string): Promise<string> {
  const answer = await client.request(
    issueToken,
    signed(issueToken, { tenantId, userId, connectionId, scopes: [SCOPE] }),
  );
  return open(answer.token, gatewaySealing, {
    sender: 'vault-proxy',
    recipient: 'gateway',
    purpose: SEALED_TOKEN_PURPOSE,
  }).toString('utf8');
}

// Cached: one connection whose token lasts an hour.
const cached = await connectAccount(3599);
await warmUp(() => issue(cached), 200);
const cachedLatency = summarize(await sequentialLatencies(() => issue(cached), requests));
const cachedSeconds = await concurrentSeconds(
  () => issue(cached),
  throughputRequests,
  config.concurrency,
);

// The gateway's client, as an action asks it: kept (its cache) vs asking vault-proxy every time.
const gatewaySide = await Promise.all(
  [0, 60_000].map(async (maxAgeMs) => {
    const tokens = new AccessTokenCache({ maxAgeMs, marginMs: 60_000 });
    tokens.hearing();
    const gateway = new VaultProxyClient(client, gatewaySigning, gatewaySealing, tokens);
    const call = () =>
      gateway.accessToken({ tenantId, userId, connectionId: cached, scopes: [SCOPE] });
    await warmUp(call, 200);
    const latency = summarize(await sequentialLatencies(call, requests));
    const seconds = await concurrentSeconds(call, throughputRequests, config.concurrency);
    return { latency, perSecond: Math.round(throughputRequests / seconds) };
  }),
);

// Refresh: tokens that expire inside the refresh margin, so every request refreshes. Refreshes are
// one at a time per connection (single flight), so the concurrent run spreads over many connections.
const refreshing = await Promise.all(
  Array.from({ length: config.concurrency }, () => connectAccount(60)),
);
const calls = provider.refreshCalls;
await warmUp(() => issue(refreshing[0]!), 50);
const refreshLatency = summarize(
  await sequentialLatencies(() => issue(refreshing[0]!), Math.min(requests, 1_000)),
);
let next = 0;
const refreshSeconds = await concurrentSeconds(
  () => issue(refreshing[next++ % refreshing.length]!),
  Math.min(throughputRequests, 2_000),
  config.concurrency,
);
const refreshes = provider.refreshCalls - calls;

console.log(
  `vault-proxy in this process; Vault double (KV v2) and OAuth provider double on loopback HTTP; nats-server on loopback; ` +
    `each request signs a grant (Ed25519), vault-proxy verifies it (a token request is answered within the grant's skew ` +
    `without a Postgres write: a replay only gets another box sealed to the gateway), reads the connection, seals the token (X25519), ` +
    `and the caller opens it; the gateway's client keeps a token it opened (TOKEN_CACHE_MAX_AGE_S) and, on a hit, makes one NATS round trip first`,
);
console.log(
  `latency: ${formatCount(requests)} sequential requests (cached), ${formatCount(Math.min(requests, 1_000))} (refresh); throughput: ${config.concurrency} in flight`,
);
printTable(
  ['token', 'p50 µs', 'p99 µs', 'mean µs', 'req/s'],
  [
    [
      'vault-proxy, token cached (within its lifetime, outside the margin)',
      formatMicros(cachedLatency.p50),
      formatMicros(cachedLatency.p99),
      formatMicros(cachedLatency.mean),
      formatCount(Math.round(throughputRequests / cachedSeconds)),
    ],
    ...(
      [
        ['gateway client asking every time (TOKEN_CACHE_MAX_AGE_S=0)', gatewaySide[0]!],
        ['gateway client, token kept (its cache hit)', gatewaySide[1]!],
      ] as const
    ).map(([name, run]) => [
      name,
      formatMicros(run.latency.p50),
      formatMicros(run.latency.p99),
      formatMicros(run.latency.mean),
      formatCount(run.perSecond),
    ]),
    [
      'refreshed (Vault read + provider refresh per request)',
      formatMicros(refreshLatency.p50),
      formatMicros(refreshLatency.p99),
      formatMicros(refreshLatency.mean),
      formatCount(Math.round(Math.min(throughputRequests, 2_000) / refreshSeconds)),
    ],
  ],
);
console.log(
  `provider refreshes during the refresh runs: ${formatCount(refreshes)} (one per request, as intended)`,
);

await client.close();
await vaultProxy.close();
await nats.stop();
await database.drop();
await provider.close();
await vault.close();
