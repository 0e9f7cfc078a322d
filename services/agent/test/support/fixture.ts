import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  CAPABILITY_PURPOSE,
  type CapabilityClaims,
  type CapabilityLimits,
} from '@heroagent/contracts';
import { canonicalJson, generateSigningKey, signJson, type JsonValue } from '@heroagent/crypto';
import { createTestDatabase, type TestDatabase } from '@heroagent/db/testing';
import { migrations } from '../../migrations/index.js';
import {
  ContractClient,
  inboxPrefixOf,
  natsEnvSchema,
  parseConfig,
  type RunningService,
} from '@heroagent/service';
import { startNatsServer, type TestNatsServer } from '@heroagent/service/testing';
import { createLogger } from '@heroagent/telemetry';
import { ChatModelDouble } from '@heroagent/doubles';
import { startAgent } from '../../src/agent.js';
import { agentConfigSchema } from '../../src/config.js';
import { GatewayDouble } from './gateway-double.js';

/** The agent, with a real NATS and Postgres, the gateway's side doubled and a scripted model. */
export interface AgentFixture {
  readonly nats: TestNatsServer;
  readonly database: TestDatabase;
  readonly model: ChatModelDouble;
  gateway: GatewayDouble;
  /** Calls the agent as the gateway does. */
  readonly client: ContractClient;
  /** A plain NATS connection asking as the gateway, for messages no contract client would send. */
  readonly raw: NatsConnection;
  readonly logs: string[];
  agent: RunningService;
  /** Restarts the agent with other settings (providers, limits). */
  restart(env?: Record<string, string>): Promise<void>;
  /** Another agent on the same NATS and database (closed with the fixture). */
  startReplica(env?: Record<string, string>): Promise<RunningService>;
  /** A capability as the gateway would mint it (the agent reads it; only the gateway verifies it). */
  capability(options: {
    tenantId?: string;
    userId?: string;
    taskId?: string;
    actions: string[];
    limits?: CapabilityLimits;
  }): { token: string; claims: CapabilityClaims };
  /** A fresh gateway double (the old one's records gone). */
  resetGateway(): Promise<GatewayDouble>;
  close(): Promise<void>;
}

export async function startAgentFixture(env: Record<string, string> = {}): Promise<AgentFixture> {
  const nats = await startNatsServer();
  const database = await createTestDatabase();
  const service = await database.provisionService('agent');
  await service.migrate(migrations);
  const model = await ChatModelDouble.start({ model: 'scripted-model' });
  const gatewayKey = generateSigningKey('gateway-test');
  const logs: string[] = [];
  const logger = createLogger({
    service: 'agent',
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const baseEnv = {
    NATS_URL: nats.url,
    DATABASE_URL: service.runtimeUrl,
    LOG_LEVEL: 'debug',
    LLM_BASE_URL: model.url,
    LLM_MODEL: 'scripted-model',
    AGENT_APPROVAL_POLL_MS: '50',
  };
  const config = (extra: Record<string, string>) =>
    parseConfig(agentConfigSchema, { ...baseEnv, ...extra });
  const client = ContractClient.create(
    parseConfig(natsEnvSchema, { NATS_URL: nats.url }),
    'gateway',
  );
  await client.connect();
  const raw = await connect({ servers: nats.url, inboxPrefix: inboxPrefixOf('gateway') });
  const replicas: RunningService[] = [];
  const fixture: AgentFixture = {
    nats,
    database,
    model,
    gateway: await GatewayDouble.start(nats.url),
    client,
    raw,
    logs,
    agent: await startAgent(config(env), logger),
    async restart(extra = {}) {
      await fixture.agent.close();
      fixture.agent = await startAgent(config(extra), logger);
    },
    async startReplica(extra = {}) {
      const replica = await startAgent(config(extra), logger);
      replicas.push(replica);
      return replica;
    },
    capability(options) {
      const now = new Date();
      const claims: CapabilityClaims = {
        v: 1,
        id: randomUUID(),
        kid: gatewayKey.kid,
        tenantId: options.tenantId ?? randomUUID(),
        userId: options.userId ?? randomUUID(),
        taskId: options.taskId ?? randomUUID(),
        actions: options.actions,
        connectionId: randomUUID(),
        limits: options.limits ?? {},
        issuedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
      };
      const signature = signJson(claims, CAPABILITY_PURPOSE, gatewayKey);
      const token = `${Buffer.from(canonicalJson(claims as unknown as JsonValue), 'utf8').toString('base64url')}.${signature.sig}`;
      return { token, claims };
    },
    async resetGateway() {
      await fixture.gateway.close();
      fixture.gateway = await GatewayDouble.start(nats.url);
      return fixture.gateway;
    },
    async close() {
      for (const replica of replicas) await replica.close();
      await fixture.agent?.close();
      await fixture.gateway?.close();
      await raw.drain();
      await client.close();
      await model.close();
      await database.drop();
      await nats.stop();
    },
  };
  return fixture;
}
