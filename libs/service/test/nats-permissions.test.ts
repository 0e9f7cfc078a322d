import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATS_IDENTITIES, type NatsIdentity } from '../src/index.js';
import { startDeployNatsServer, type DeployNatsServer } from '../src/testing/index.js';

// Every identity of deploy/nats/heroagent.conf × every class of subject × publish and subscribe,
// against nats-server started with that file. A subject class is named by one subject of it.
const TENANT = randomUUID();
const SUBJECTS = {
  'gateway.actions.*': 'gateway.actions.execute',
  'gateway.tasks.report': 'gateway.tasks.report',
  'gateway.keys.erased': 'gateway.keys.erased',
  'gateway.* (other)': 'gateway.health.get',
  'agent.*': 'agent.tasks.start',
  'vault.*': 'vault.tokens.issue',
  'vault.connections.changed': 'vault.connections.changed',
  'audit.events.*': `audit.events.${TENANT}`,
  'audit.* requests': 'audit.records.query',
  'audit.health.get': 'audit.health.get',
  '_INBOX.gateway': '_INBOX.gateway.x',
  '_INBOX.gateway-relay': '_INBOX.gateway-relay.x',
  '_INBOX.agent': '_INBOX.agent.x',
  '_INBOX.vault-proxy': '_INBOX.vault-proxy.x',
  '_INBOX.audit': '_INBOX.audit.x',
  '_INBOX.provisioner': '_INBOX.provisioner.x',
  '_INBOX (default)': '_INBOX.Xk3Jd9aQpL2mN0vB7cF1eR',
  '$JS.API.INFO': '$JS.API.INFO',
  'stream info': '$JS.API.STREAM.INFO.AUDIT_EVENTS',
  'stream create': '$JS.API.STREAM.CREATE.AUDIT_EVENTS',
  'stream update': '$JS.API.STREAM.UPDATE.AUDIT_EVENTS',
  'stream delete': '$JS.API.STREAM.DELETE.AUDIT_EVENTS',
  'stream purge': '$JS.API.STREAM.PURGE.AUDIT_EVENTS',
  'stream message delete': '$JS.API.STREAM.MSG.DELETE.AUDIT_EVENTS',
  'stream message get': '$JS.API.STREAM.MSG.GET.AUDIT_EVENTS',
  'another stream create': '$JS.API.STREAM.CREATE.ELSEWHERE',
  'stream list': '$JS.API.STREAM.NAMES',
  'consumer info': '$JS.API.CONSUMER.INFO.AUDIT_EVENTS.audit-ingest',
  'consumer create': '$JS.API.CONSUMER.CREATE.AUDIT_EVENTS.audit-ingest',
  'consumer create (filtered)': '$JS.API.CONSUMER.CREATE.AUDIT_EVENTS.audit-ingest.audit.events.*',
  'consumer durable create': '$JS.API.CONSUMER.DURABLE.CREATE.AUDIT_EVENTS.audit-ingest',
  'consumer delete': '$JS.API.CONSUMER.DELETE.AUDIT_EVENTS.audit-ingest',
  'consumer next': '$JS.API.CONSUMER.MSG.NEXT.AUDIT_EVENTS.audit-ingest',
  'another consumer create': '$JS.API.CONSUMER.CREATE.AUDIT_EVENTS.mallory',
  'another consumer next': '$JS.API.CONSUMER.MSG.NEXT.AUDIT_EVENTS.mallory',
  ack: '$JS.ACK.AUDIT_EVENTS.audit-ingest.1.1.1.1.1',
  'ack of another consumer': '$JS.ACK.AUDIT_EVENTS.mallory.1.1.1.1.1',
  arbitrary: 'anything.else',
  everything: '>',
} as const;
type SubjectClass = keyof typeof SUBJECTS;

/** What each identity may publish; everything else is refused. */
const PUBLISH: Record<NatsIdentity, readonly SubjectClass[]> = {
  gateway: [
    'agent.*',
    'vault.*',
    'audit.* requests',
    'audit.health.get',
    '_INBOX.agent',
    'gateway.keys.erased',
  ],
  'gateway-relay': ['audit.events.*'],
  agent: ['gateway.actions.*', 'gateway.tasks.report'],
  // The one event only vault-proxy may publish: a forged change from anyone else is refused.
  'vault-proxy': ['vault.connections.changed'],
  audit: ['stream info', 'consumer info', 'consumer next', 'ack'],
  provisioner: [
    '$JS.API.INFO',
    'stream info',
    'stream create',
    'stream update',
    'consumer info',
    'consumer create',
    'consumer create (filtered)',
    'consumer durable create',
  ],
};

/** What each identity may subscribe to; everything else is refused. */
const SUBSCRIBE: Record<NatsIdentity, readonly SubjectClass[]> = {
  gateway: [
    'gateway.actions.*',
    'gateway.tasks.report',
    'gateway.keys.erased',
    'gateway.* (other)',
    '_INBOX.gateway',
    'vault.connections.changed',
  ],
  'gateway-relay': ['_INBOX.gateway-relay'],
  agent: ['agent.*', '_INBOX.agent'],
  'vault-proxy': ['vault.*', 'vault.connections.changed', '_INBOX.vault-proxy'],
  audit: ['audit.* requests', 'audit.health.get', '_INBOX.audit'],
  provisioner: ['_INBOX.provisioner'],
};

const CLASSES = Object.keys(SUBJECTS) as SubjectClass[];
// `>` cannot be published to; it is a subscription class only.
const PUBLISHABLE = CLASSES.filter((name) => name !== 'everything');

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Watches a connection's permission errors, by subject. */
function permissionErrors(connection: NatsConnection): Set<string> {
  const refused = new Set<string>();
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type !== 'error') continue;
      const match = /Permissions Violation for (?:Publish|Subscription) to "?([^"\s]+)"?/i.exec(
        String(status.error),
      );
      if (match) refused.add(match[1]!);
    }
  })();
  return refused;
}

describe('NATS permissions of deploy/nats/heroagent.conf', { timeout: 60_000 }, () => {
  let server: DeployNatsServer;
  const connections: NatsConnection[] = [];
  const connectAs = async (identity: NatsIdentity) => {
    const connection = await server.connectAs(identity);
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    server = await startDeployNatsServer();
  });

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await server?.stop();
  });

  describe.each(NATS_IDENTITIES.map((identity) => [identity]))('%s', (identity) => {
    it('publishes exactly what its role needs', async () => {
      const connection = await connectAs(identity);
      const refused = permissionErrors(connection);
      for (const name of PUBLISHABLE) connection.publish(SUBJECTS[name], '{}');
      // The server answers a PING after every PUB before it: once flushed, each refusal is in.
      await connection.flush();
      await tick();
      const matrix = Object.fromEntries(
        PUBLISHABLE.map((name) => [name, refused.has(SUBJECTS[name]) ? 'denied' : 'allowed']),
      );
      expect(matrix).toEqual(
        Object.fromEntries(
          PUBLISHABLE.map((name) => [
            name,
            PUBLISH[identity].includes(name) ? 'allowed' : 'denied',
          ]),
        ),
      );
    });

    it('subscribes to exactly its own subjects and inbox', async () => {
      const connection = await connectAs(identity);
      const subscriptions = new Map<SubjectClass, Subscription>(
        CLASSES.map((name) => [name, connection.subscribe(SUBJECTS[name])]),
      );
      await connection.flush();
      await tick();
      const matrix: Record<string, string> = {};
      for (const [name, subscription] of subscriptions) {
        const outcome = await Promise.race([subscription.closed, tick().then(() => 'open')]);
        matrix[name] =
          outcome instanceof Error && /permission/i.test(outcome.message) ? 'denied' : 'allowed';
        if (outcome === 'open') subscription.unsubscribe();
      }
      expect(matrix).toEqual(
        Object.fromEntries(
          CLASSES.map((name) => [name, SUBSCRIBE[identity].includes(name) ? 'allowed' : 'denied']),
        ),
      );
    });
  });

  it('lets the agent ask the gateway, and the gateway answer into the agent’s inbox', async () => {
    const gateway = await connectAs('gateway');
    gateway.subscribe('gateway.actions.execute', {
      callback: (_error, message) => {
        message.respond('"done"');
      },
    });
    await gateway.flush();
    const agent = await connectAs('agent');
    const reply = await agent.request('gateway.actions.execute', '{}', { timeout: 5_000 });
    expect(reply.string()).toBe('"done"');
  });

  // Replies aimed at the gateway's own outbound subjects (agent.*, vault.*, audit requests) are
  // publishes its user may make: there the reply guard of libs/service alone drops them (see
  // reply-guard.test.ts and the platform's readiness test).
  it.each([
    '_INBOX.gateway.x',
    '_INBOX.vault-proxy.x',
    '_INBOX.audit.x',
    '_INBOX.gateway-relay.x',
    `audit.events.${TENANT}`,
    '$JS.API.STREAM.INFO.AUDIT_EVENTS',
    '$JS.API.STREAM.UPDATE.AUDIT_EVENTS',
    'gateway.tasks.report',
  ])(
    'refuses the gateway’s user a reply the agent pointed at %s, even from a gateway that would send it',
    async (target) => {
      // A responder under the gateway's user that answers whatever reply subject it is given:
      // the server, not only libs/service's reply guard, keeps its answers in the agent's inbox.
      const gateway = await server.connectAs('gateway');
      try {
        const refused = permissionErrors(gateway);
        const answered = new Promise<unknown>((resolve) => {
          gateway.subscribe('gateway.actions.get', {
            callback: (_error, message) => {
              message.respond('"reflected"');
              void gateway.flush().then(tick).then(resolve);
            },
          });
        });
        await gateway.flush();
        const agent = await connectAs('agent');
        agent.publish('gateway.actions.get', '{}', { reply: target });
        await answered;
        expect(refused.has(target), target).toBe(true);
      } finally {
        await gateway.close();
      }
    },
  );

  it('lets vault-proxy answer a request it received, once, and publish nothing else', async () => {
    const vault = await connectAs('vault-proxy');
    const refused = permissionErrors(vault);
    const served = new Promise<string | undefined>((resolve) => {
      vault.subscribe('vault.tokens.issue', {
        callback: (_error, message) => {
          message.respond('"sealed"');
          message.respond('"again"');
          resolve(message.reply);
        },
      });
    });
    await vault.flush();
    const gateway = await connectAs('gateway');
    const reply = await gateway.request('vault.tokens.issue', '{}', { timeout: 5_000 });
    expect(reply.string()).toBe('"sealed"');
    const inbox = await served;
    await vault.flush();
    await tick();
    expect(refused.has(inbox!)).toBe(true);
  });

  it('lets no one else reach vault-proxy: the agent’s and audit’s requests never arrive', async () => {
    const vault = await connectAs('vault-proxy');
    let received = 0;
    vault.subscribe('vault.tokens.issue', {
      callback: () => {
        received += 1;
      },
    });
    await vault.flush();
    for (const caller of ['agent', 'audit', 'gateway-relay', 'provisioner'] as const) {
      const connection = await connectAs(caller);
      await expect(
        connection.request('vault.tokens.issue', '{}', { timeout: 2_000 }),
        caller,
      ).rejects.toThrow();
    }
    await vault.flush();
    expect(received).toBe(0);
  });

  it('refuses a wrong password and an unknown user', async () => {
    await expect(server.connectAs('gateway', { pass: 'not-the-password-at-all' })).rejects.toThrow(
      /authorization/i,
    );
    await expect(server.connectAs('gateway', { user: 'mallory' })).rejects.toThrow(
      /authorization/i,
    );
  });
});
