import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, nkeys, type NatsConnection } from '@nats-io/transport-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  natsConnectionOptions,
  natsEnvSchema,
  parseConfig,
  type NatsIdentity,
} from '@heroagent/service';
import { issueCa, issueCertificate } from '@heroagent/service/certificates';
import { startNatsServer, type TestNatsServer } from '@heroagent/service/testing';
import { generateNatsConfigMap, NKEYS_CONFIGMAP, SYSTEM_SECRET } from '../src/nats-config.js';
import { NKEYS_SECRET, renderNatsCredentials } from '../src/nats-nkeys.js';

// What `pnpm nats:nkeys` prints, used as deploy/k8s uses it: nats-server with the generated users
// (each known by the public key from the ConfigMap) and client certificates required, the services
// connecting through natsConnectionOptions with their seed file and a client certificate, as their
// manifests configure them. A development CA, server and client certificates are made here with
// openssl, in a temporary folder.
const run = promisify(execFile);

interface Credentials {
  seeds: Record<string, string>;
  publicKeys: Record<string, string>;
  systemPassword: string;
}

function parseCredentials(text: string): Credentials {
  const documents = parseAllDocuments(text).map(
    (document) =>
      document.toJS() as {
        kind: string;
        metadata: { name: string };
        stringData?: Record<string, string>;
        data?: Record<string, string>;
      },
  );
  const named = (kind: string, name: string) =>
    documents.find((document) => document.kind === kind && document.metadata.name === name)!;
  return {
    seeds: named('Secret', NKEYS_SECRET).stringData!,
    publicKeys: named('ConfigMap', NKEYS_CONFIGMAP).data!,
    systemPassword: named('Secret', SYSTEM_SECRET).stringData!.password!,
  };
}

describe('pnpm nats:nkeys', () => {
  it('makes a fresh user nkey for every user of heroagent.conf, public keys matching seeds', async () => {
    const { source } = await generateNatsConfigMap();
    const first = parseCredentials(renderNatsCredentials(source.users));
    const second = parseCredentials(renderNatsCredentials(source.users));
    expect(Object.keys(first.seeds)).toEqual(source.users);
    expect(Object.keys(first.publicKeys)).toEqual(source.users);
    for (const user of source.users) {
      const pair = nkeys.fromSeed(new TextEncoder().encode(first.seeds[user]));
      expect(first.seeds[user]).toMatch(/^SU[A-Z2-7]{56}$/);
      expect(pair.getPublicKey()).toBe(first.publicKeys[user]);
      expect(second.seeds[user]).not.toBe(first.seeds[user]);
    }
    expect(new Set(Object.values(first.seeds)).size).toBe(source.users.length);
    expect(first.systemPassword).toMatch(/^[A-Za-z][A-Za-z0-9]{39}$/);
  });
});

const natsServer = await run('nats-server', ['--version']).then(
  () => true,
  () => false,
);

describe.skipIf(!natsServer)(
  'the generated NATS users, with mutual TLS',
  { timeout: 60_000 },
  () => {
    let dir: string;
    let server: TestNatsServer;
    let credentials: Credentials;
    const connections: NatsConnection[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'deploy-check-nkeys-'));
      const ca = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
      await issueCa({ ...ca, commonName: 'test-ca', days: 1 });
      await issueCertificate({
        ca,
        certFile: join(dir, 'server.crt'),
        keyFile: join(dir, 'server.key'),
        commonName: 'server',
        usage: 'serverAuth',
        subjectAltName: 'IP:127.0.0.1,DNS:localhost',
        days: 1,
      });
      await issueCertificate({
        ca,
        certFile: join(dir, 'client.crt'),
        keyFile: join(dir, 'client.key'),
        commonName: 'client',
        usage: 'clientAuth',
        days: 1,
      });
      const { source } = await generateNatsConfigMap();
      credentials = parseCredentials(renderNatsCredentials(source.users));
      for (const [user, seed] of Object.entries(credentials.seeds))
        await writeFile(join(dir, `${user}.nk`), `${seed}\n`, { mode: 0o600 });
      // The generated account's users, under the client port's TLS block as nats-config.yaml has it
      // (but min_version, which this nats-server predates).
      server = await startNatsServer({
        config: `tls {
  cert_file: "${join(dir, 'server.crt')}"
  key_file: "${join(dir, 'server.key')}"
  ca_file: "${join(dir, 'ca.crt')}"
  verify: true
  timeout: 2
}
accounts {
  HEROAGENT {
    users = ${source.nkeyUsersBlock}
  }
}
`,
        env: Object.fromEntries(
          source.users.map((user, index) => [
            source.nkeyVariables[index]!,
            credentials.publicKeys[user]!,
          ]),
        ),
      });
    });

    afterAll(async () => {
      await Promise.all(connections.map((connection) => connection.close()));
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    /** Connects as the manifests configure a service: tls://, the CA, a client certificate, a seed. */
    const connectAs = async (identity: NatsIdentity, extra: Record<string, string> = {}) => {
      const config = parseConfig(natsEnvSchema, {
        NATS_URL: `tls://127.0.0.1:${server.port}`,
        NATS_TLS_CA_FILE: join(dir, 'ca.crt'),
        NATS_TLS_CERT_FILE: join(dir, 'client.crt'),
        NATS_TLS_KEY_FILE: join(dir, 'client.key'),
        NATS_NKEY_SEED_FILE: join(dir, `${identity}.nk`),
        ...extra,
      });
      const connection = await connect({
        ...natsConnectionOptions(config, identity),
        maxReconnectAttempts: 0,
        waitOnFirstConnect: false,
        timeout: 2_000,
      });
      connections.push(connection);
      return connection;
    };

    it("connects each service with its seed and certificate, under its user's permissions", async () => {
      const agent = await connectAs('agent');
      const refused: string[] = [];
      void (async () => {
        for await (const status of agent.status())
          if (status.type === 'error') refused.push(String(status.error));
      })();
      agent.publish('gateway.actions.execute', 'allowed');
      agent.publish('vault.tokens.issue', 'denied');
      await agent.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(refused).toEqual([
        expect.stringMatching(/Permissions Violation for Publish to "?vault\.tokens\.issue/),
      ]);
      for (const identity of [
        'gateway',
        'gateway-relay',
        'vault-proxy',
        'audit',
        'provisioner',
      ] as const)
        await expect(connectAs(identity)).resolves.toBeDefined();
    });

    it('refuses a seed it does not know', async () => {
      const stranger = join(dir, 'stranger.nk');
      await writeFile(stranger, new TextDecoder().decode(nkeys.createUser().getSeed()));
      await expect(connectAs('agent', { NATS_NKEY_SEED_FILE: stranger })).rejects.toThrow(
        /authorization violation/i,
      );
    });

    // nats-server ends the handshake of a client that presents no certificate; the client, its
    // TLS 1.3 handshake done on its side, hears nothing more and gives up at its timeout.
    it('refuses a client without a certificate', async () => {
      const outcome = await connectAs('agent', {
        NATS_TLS_CERT_FILE: '',
        NATS_TLS_KEY_FILE: '',
      }).then(
        () => 'connected',
        (error: unknown) => String(error),
      );
      expect(outcome).not.toBe('connected');
    });
  },
);
