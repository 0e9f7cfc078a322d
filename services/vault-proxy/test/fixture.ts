import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  SEALED_TOKEN_PURPOSE,
  exchangeCode,
  issueToken,
  listConnections,
  type RpcContract,
  type RpcRequestInput,
} from '@heroagent/contracts';
import {
  exportEd25519PublicKey,
  exportX25519PublicKey,
  generateSealingKey,
  generateSigningKey,
  open,
  signJson,
  toBase64Url,
  exportEd25519Seed,
  type JsonValue,
  type SealingKey,
  type SigningKey,
} from '@heroagent/crypto';
import { createTestDatabase, type TestDatabase } from '@heroagent/db/testing';
import { migrations } from '../migrations/index.js';
import {
  ContractClient,
  natsEnvSchema,
  parseConfig,
  type RunningService,
} from '@heroagent/service';
import { startNatsServer, type TestNatsServer } from '@heroagent/service/testing';
import { createLogger } from '@heroagent/telemetry';
import { VaultConnection } from '../src/secrets/vault/vault-connection.js';
import { vaultProxyConfigSchema } from '../src/config.js';
import { startVaultProxy } from '../src/vault-proxy.js';
import { OAuthProviderDouble } from '@heroagent/doubles';
import { VaultDouble } from '@heroagent/doubles';
import type { HoldingProxy } from './doubles/holding-proxy.js';

export const MOUNTS = { kv: 'heroagent-kv', transit: 'heroagent-transit' };
export const GMAIL_READ = 'https://www.googleapis.com/auth/gmail.readonly';
export const CALENDAR = 'https://www.googleapis.com/auth/calendar.events';
export const GMAIL_SEND = 'https://www.googleapis.com/auth/gmail.send';

/** vault-proxy running against the Vault double and the OAuth double, with the gateway's keys in the test's hands. */
export interface VaultProxyFixture {
  readonly vault: VaultDouble;
  readonly provider: OAuthProviderDouble;
  readonly nats: TestNatsServer;
  readonly database: TestDatabase;
  /** vault-proxy's runtime role's URL (its schema: `vault_proxy`). */
  readonly runtimeUrl: string;
  readonly gatewaySigning: SigningKey;
  readonly gatewaySealing: SealingKey;
  readonly vaultProxyToken: string;
  readonly client: ContractClient;
  /** Every log line vault-proxy wrote. */
  readonly logs: string[];
  /** Every NATS message that crossed the server, as text. */
  readonly traffic: string[];
  running: RunningService;
  /** A signed grant, as the gateway sends it. */
  signed<G extends Record<string, unknown>>(
    contract: RpcContract,
    grant: G,
    key?: SigningKey,
  ): { grant: G & { requestId: string; issuedAt: string }; signature: ReturnType<typeof signJson> };
  /**
   * A consent at the provider double and the grant the gateway would send for its code (PKCE
   * verifier, redirect URI, nonce), not yet signed.
   */
  authorized(options: {
    intent: RpcRequestInput<typeof exchangeCode>['grant']['intent'];
    scopes: string[];
    granted?: string[];
    email?: string;
    refreshToken?: string;
  }): Omit<RpcRequestInput<typeof exchangeCode>['grant'], 'requestId' | 'issuedAt'>;
  /**
   * Connects an account as the gateway's callback does: a code from the provider double,
   * exchanged by vault-proxy (`vault.oauth.exchange`). Each call is another account by default.
   */
  connect(options: {
    tenantId: string;
    userId: string;
    scopes: string[];
    granted?: string[];
    email?: string;
    refreshToken?: string;
  }): Promise<{ connectionId: string; refreshToken: string; grantedScopes: string[] }>;
  /** Waits until no connection of the tenant is `revoking` any more (the worker finished). */
  revocationsSettled(tenantId: string): Promise<void>;
  /** Issues and opens a token, as the gateway would. */
  token(options: {
    tenantId: string;
    userId: string;
    connectionId: string;
    scopes: string[];
  }): Promise<{ accessToken: string; expiresAt: string; scopes: string[] }>;
  restart(extraEnv?: Record<string, string>): Promise<void>;
  /** Another vault-proxy on the same database, Vault and NATS (closed with the fixture). */
  startReplica(extraEnv?: Record<string, string>): Promise<RunningService>;
  close(): Promise<void>;
}

/** Proxies that vault-proxy reaches Vault or the provider through (so a test can hold a call). */
export interface FixtureProxies {
  readonly vault?: HoldingProxy;
  readonly provider?: HoldingProxy;
}

export async function startVaultProxyFixture(
  extraEnv: Record<string, string> = {},
  proxies: FixtureProxies = {},
): Promise<VaultProxyFixture> {
  const vault = await VaultDouble.start();
  if (proxies.vault !== undefined) proxies.vault.target = vault.address;
  const root = await VaultConnection.connect(
    {
      address: vault.address,
      timeoutMs: 2000,
      auth: { method: 'token', token: vault.rootToken },
      strictWarnings: true,
    },
    createLogger({ service: 'vault-proxy', level: 'silent' }),
  );
  await root.call('POST', `sys/mounts/${MOUNTS.kv}`, { type: 'kv', options: { version: '2' } });
  await root.call('POST', `sys/mounts/${MOUNTS.transit}`, { type: 'transit' });
  await root.close();
  vault.setPolicy('vault-proxy', [
    { path: `${MOUNTS.kv}/data/tenants/*`, capabilities: ['create', 'read', 'update'] },
    { path: `${MOUNTS.kv}/metadata/tenants/*`, capabilities: ['list', 'delete'] },
    { path: `${MOUNTS.transit}/keys`, capabilities: ['list'] },
    { path: `${MOUNTS.transit}/keys/*`, capabilities: ['create', 'read', 'update', 'delete'] },
    { path: `${MOUNTS.transit}/datakey/plaintext/*`, capabilities: ['update'] },
    { path: `${MOUNTS.transit}/decrypt/*`, capabilities: ['update'] },
    { path: `${MOUNTS.transit}/rewrap/*`, capabilities: ['update'] },
  ]);
  const vaultProxyToken = vault.issueToken(['vault-proxy'], { ttlSeconds: 3600 });
  const provider = await OAuthProviderDouble.start();
  const providerUrl = (url: string) =>
    proxies.provider === undefined ? url : `${proxies.provider.url}${new URL(url).pathname}`;
  if (proxies.provider !== undefined) proxies.provider.target = new URL(provider.tokenUrl).origin;
  // No permissions on this server: a sniffer sees every message, to prove no secret crosses in clear.
  const nats = await startNatsServer();
  const database = await createTestDatabase();
  const service = await database.provisionService('vault_proxy');
  await service.migrate(migrations);
  const gatewaySigning = generateSigningKey();
  const gatewaySealing = generateSealingKey();
  const logs: string[] = [];
  const traffic: string[] = [];
  const sniffer: NatsConnection = await connect({ servers: nats.url });
  sniffer.subscribe('>', {
    callback: (_error, message) => {
      const headers =
        message.headers === undefined
          ? ''
          : [...message.headers.keys()]
              .map((key) => `${key}: ${message.headers!.get(key)}`)
              .join('; ');
      traffic.push(`${message.subject} ${headers} ${message.string()}`);
    },
  });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const env = (extra: Record<string, string>) => ({
    HEROAGENT_ENV: 'test',
    LOG_LEVEL: 'debug',
    DATABASE_URL: service.runtimeUrl,
    DATABASE_SCHEMA: 'vault_proxy',
    NATS_URL: nats.url,
    SERVICE_SIGNING_KEY: toBase64Url(exportEd25519Seed(generateSigningKey().privateKey)),
    GATEWAY_VERIFY_KEYS: JSON.stringify([
      {
        kid: gatewaySigning.kid,
        publicKey: toBase64Url(exportEd25519PublicKey(gatewaySigning.publicKey)),
      },
    ]),
    GATEWAY_SEALING_PUBLIC_KEY: toBase64Url(exportX25519PublicKey(gatewaySealing.publicKey)),
    VAULT_ADDR: proxies.vault?.url ?? vault.address,
    VAULT_TOKEN: vaultProxyToken,
    VAULT_KV_MOUNT: MOUNTS.kv,
    VAULT_TRANSIT_MOUNT: MOUNTS.transit,
    OAUTH_GOOGLE_CLIENT_ID: provider.clientId,
    OAUTH_GOOGLE_CLIENT_SECRET: provider.clientSecret,
    OAUTH_GOOGLE_TOKEN_URL: providerUrl(provider.tokenUrl),
    OAUTH_GOOGLE_REVOKE_URL: providerUrl(provider.revokeUrl),
    OAUTH_GOOGLE_ISSUER: provider.issuer,
    REVOCATION_POLL_MS: '100',
    REVOCATION_RETRY_BASE_MS: '200',
    REVOCATION_RETRY_MAX_MS: '1000',
    ...extraEnv,
    ...extra,
  });
  const start = (extra: Record<string, string> = {}) =>
    startVaultProxy(
      vaultProxyConfigSchema.parse(env(extra)),
      createLogger({ service: 'vault-proxy', level: 'debug', destination }),
    );
  const client = ContractClient.create(
    parseConfig(natsEnvSchema, { NATS_URL: nats.url, NATS_REQUEST_TIMEOUT_MS: '10000' }),
    'gateway',
  );
  const replicas: RunningService[] = [];
  const fixture: VaultProxyFixture = {
    vault,
    provider,
    nats,
    database,
    runtimeUrl: service.runtimeUrl,
    gatewaySigning,
    gatewaySealing,
    vaultProxyToken,
    client,
    logs,
    traffic,
    running: await start(),
    signed(contract, grant, key = gatewaySigning) {
      const full = { ...grant, requestId: randomUUID(), issuedAt: new Date().toISOString() };
      return {
        grant: full,
        signature: signJson(full as unknown as JsonValue, contract.subject, key),
      };
    },
    authorized({ intent, scopes, granted, email, refreshToken }) {
      const codeVerifier = randomBytes(32).toString('base64url');
      const nonce = randomBytes(16).toString('base64url');
      const redirectUri = 'https://heroagent.example/v1/connections/google/callback';
      const code = provider.authorize({
        redirectUri,
        codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'),
        nonce,
        scopes: ['openid', 'email', ...scopes],
        ...(granted === undefined ? {} : { granted: ['openid', 'email', ...granted] }),
        offline: intent.purpose === 'connect',
        email: email ?? `ada+${randomBytes(4).toString('hex')}@example.com`,
        ...(refreshToken === undefined ? {} : { refreshToken }),
      });
      return { provider: 'google', code, codeVerifier, redirectUri, nonce, intent };
    },
    async connect({ tenantId, userId, scopes, granted, email, refreshToken }) {
      const before = provider.issuedRefreshTokens.length;
      const answer = await client.request(
        exchangeCode,
        fixture.signed(
          exchangeCode,
          fixture.authorized({
            intent: { purpose: 'connect', tenantId, userId, requestedScopes: scopes },
            scopes,
            ...(granted === undefined ? {} : { granted }),
            ...(email === undefined ? {} : { email }),
            ...(refreshToken === undefined ? {} : { refreshToken }),
          }),
        ),
      );
      return {
        connectionId: answer.connection!.connection.id,
        refreshToken: provider.issuedRefreshTokens[before]!,
        grantedScopes: answer.grantedScopes,
      };
    },
    async revocationsSettled(tenantId) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { connections } = await client.request(listConnections, { tenantId });
        if (!connections.some((connection) => connection.status === 'revoking')) return;
        if (Date.now() > deadline) throw new Error('revocations still pending after 10 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async token(options) {
      const answer = await client.request(issueToken, fixture.signed(issueToken, options));
      const accessToken = open(answer.token, gatewaySealing, {
        sender: 'vault-proxy',
        recipient: 'gateway',
        purpose: SEALED_TOKEN_PURPOSE,
      }).toString('utf8');
      return { accessToken, expiresAt: answer.expiresAt, scopes: answer.scopes };
    },
    async restart(extra = {}) {
      await fixture.running.close();
      fixture.running = await start(extra);
    },
    async startReplica(extra = {}) {
      const replica = await start(extra);
      replicas.push(replica);
      return replica;
    },
    async close() {
      for (const replica of replicas) await replica.close();
      await fixture.running.close();
      await client.close();
      await sniffer.close();
      await nats.stop();
      await database.drop();
      await provider.close();
      await vault.close();
    },
  };
  return fixture;
}
