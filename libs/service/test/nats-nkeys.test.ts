import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, nkeys, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  natsConnectionOptions,
  natsEnvSchema,
  natsNkeyVariable,
  parseConfig,
  type NatsIdentity,
} from '../src/index.js';
import { startNatsServer, type TestNatsServer } from '../src/testing/index.js';

// nkey authentication against a real nats-server: two identities known by their public keys only
// (given to the server through `$HEROAGENT_NATS_<ID>_NKEY`, as deploy/k8s does), each with its
// permissions from deploy/nats/heroagent.conf. The seeds are made here, in a temporary folder.
const IDENTITIES = ['agent', 'vault-proxy'] as const satisfies readonly NatsIdentity[];
const CONFIG = `authorization {
  users = [
    {
      nkey: $${natsNkeyVariable('agent')}
      permissions: {
        publish: { allow: ["gateway.actions.>", "gateway.tasks.report"] }
        subscribe: { allow: ["agent.>", "_INBOX.agent.>"] }
        allow_responses: { max: 1, expires: "2m" }
      }
    }
    {
      nkey: $${natsNkeyVariable('vault-proxy')}
      permissions: {
        publish: { deny: [">"] }
        subscribe: { allow: ["vault.>", "_INBOX.vault-proxy.>"] }
        allow_responses: { max: 1, expires: "2m" }
      }
    }
  ]
}
`;

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Permission errors the server reports on a connection, by subject. */
function permissionErrors(connection: NatsConnection): string[] {
  const refused: string[] = [];
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type !== 'error') continue;
      const match = /Permissions Violation for (?:Publish|Subscription) to "?([^"\s]+)"?/i.exec(
        String(status.error),
      );
      if (match) refused.push(match[1]!);
    }
  })();
  return refused;
}

describe('NATS nkey authentication (NATS_NKEY_SEED_FILE)', { timeout: 30_000 }, () => {
  let server: TestNatsServer;
  let dir: string;
  const seedFiles = {} as Record<(typeof IDENTITIES)[number] | 'stranger', string>;
  const connections: NatsConnection[] = [];

  const connectWith = async (identity: NatsIdentity, seedFile: string) => {
    const config = parseConfig(natsEnvSchema, {
      NATS_URL: server.url,
      NATS_NKEY_SEED_FILE: seedFile,
    });
    const connection = await connect({
      ...natsConnectionOptions(config, identity),
      maxReconnectAttempts: 0,
      waitOnFirstConnect: false,
    });
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heroagent-nkeys-'));
    const env: Record<string, string> = {};
    for (const identity of [...IDENTITIES, 'stranger'] as const) {
      const pair = nkeys.createUser();
      seedFiles[identity] = join(dir, `${identity}.nk`);
      await writeFile(seedFiles[identity], `${decode(pair.getSeed())}\n`, { mode: 0o600 });
      if (identity !== 'stranger') env[natsNkeyVariable(identity)] = pair.getPublicKey();
    }
    server = await startNatsServer({ config: CONFIG, env });
  });

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects each identity with its seed, under its own inbox, with its own permissions', async () => {
    const agent = await connectWith('agent', seedFiles.agent);
    const vaultProxy = await connectWith('vault-proxy', seedFiles['vault-proxy']);
    const agentRefused = permissionErrors(agent);
    const vaultRefused = permissionErrors(vaultProxy);

    // Allowed: what heroagent.conf lets each do.
    agent.publish('gateway.actions.execute', 'x');
    agent.subscribe('agent.tasks.start');
    vaultProxy.subscribe('vault.tokens.issue');
    await agent.flush();
    await vaultProxy.flush();
    expect(agentRefused).toEqual([]);
    expect(vaultRefused).toEqual([]);

    // Refused: the agent may not publish to vault.*, vault-proxy may publish nothing of its own
    // and may not listen to the agent's subjects.
    agent.publish('vault.tokens.issue', 'x');
    vaultProxy.publish('agent.tasks.start', 'x');
    vaultProxy.subscribe('agent.>');
    await agent.flush();
    await vaultProxy.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(agentRefused).toEqual(['vault.tokens.issue']);
    expect(vaultRefused.sort()).toEqual(['agent.>', 'agent.tasks.start']);
  });

  it('refuses a seed it does not know; a known seed has its own rights, whatever the code calls it', async () => {
    await expect(connectWith('agent', seedFiles.stranger)).rejects.toThrow(
      /authorization violation/i,
    );
    // The identity in the code names the inbox; the key decides the permissions: vault-proxy's seed
    // connecting "as agent" has vault-proxy's rights, so it may not subscribe to _INBOX.agent.>.
    const impostor = await connectWith('agent', seedFiles['vault-proxy']);
    const refused = permissionErrors(impostor);
    impostor.subscribe('agent.tasks.start');
    await impostor.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(refused).toEqual(['agent.tasks.start']);
  });
});
