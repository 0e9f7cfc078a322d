import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceName } from '@heroagent/contracts';
import { natsConnectionOptions, natsEnvSchema, parseConfig } from '../src/index.js';
import { natsPassword, startNatsServer, type TestNatsServer } from '../src/testing/index.js';

const CONFIG = fileURLToPath(new URL('../../../deploy/nats/heroagent.conf', import.meta.url));
const SERVICES: ServiceName[] = ['gateway', 'agent', 'vault-proxy', 'audit'];
const passwordVariable = (service: ServiceName) =>
  `HEROAGENT_NATS_${service.toUpperCase().replace('-', '_')}_PASSWORD`;

describe('NATS permissions from deploy/nats/heroagent.conf', () => {
  let server: TestNatsServer;
  const passwords = Object.fromEntries(SERVICES.map((service) => [service, natsPassword()]));
  const connections = new Map<ServiceName, NatsConnection>();
  const received = { vault: 0, audit: 0 };

  const connectAs = (service: ServiceName, password = passwords[service]!) =>
    connect({
      ...natsConnectionOptions(
        parseConfig(natsEnvSchema, {
          NATS_URL: server.url,
          NATS_USER: service,
          NATS_PASSWORD: password,
        }),
        service,
      ),
      maxReconnectAttempts: 0,
      waitOnFirstConnect: false,
    });
  const as = (service: ServiceName) => connections.get(service)!;

  /** Publishes as `service` and resolves with the permission error the server reports, if any. */
  async function publishViolation(
    service: ServiceName,
    subject: string,
  ): Promise<string | undefined> {
    const connection = await connectAs(service);
    try {
      const errors: string[] = [];
      const watching = (async () => {
        for await (const status of connection.status()) {
          if (status.type === 'error') errors.push(String(status.error));
        }
      })();
      connection.publish(subject, '{}');
      await connection.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await connection.close();
      await watching;
      return errors.find((error) => /permission/i.test(error));
    } finally {
      if (!connection.isClosed()) await connection.close();
    }
  }

  async function subscriptionRefused(service: ServiceName, subject: string): Promise<boolean> {
    const subscription: Subscription = as(service).subscribe(subject);
    await as(service).flush();
    const outcome = await Promise.race([
      subscription.closed,
      new Promise((resolve) => setTimeout(() => resolve('open'), 500)),
    ]);
    if (outcome === 'open') subscription.unsubscribe();
    return outcome instanceof Error && /permission/i.test(outcome.message);
  }

  beforeAll(async () => {
    const config = await readFile(CONFIG, 'utf8');
    server = await startNatsServer({
      config,
      env: Object.fromEntries(
        SERVICES.map((service) => [passwordVariable(service), passwords[service]!]),
      ),
    });
    for (const service of SERVICES) connections.set(service, await connectAs(service));
    as('gateway').subscribe('gateway.actions.execute', {
      callback: (_error, message) => {
        message.respond('"done"');
      },
    });
    as('vault-proxy').subscribe('vault.tokens.issue', {
      callback: (_error, message) => {
        received.vault += 1;
        message.respond('"sealed"');
      },
    });
    as('audit').subscribe('audit.health.get', {
      callback: (_error, message) => {
        received.audit += 1;
        message.respond('"ok"');
      },
    });
    await Promise.all([...connections.values()].map((connection) => connection.flush()));
  });

  afterAll(async () => {
    await Promise.all([...connections.values()].map((connection) => connection.close()));
    await server?.stop();
  });

  it('lets the agent ask the gateway to act, through its own reply inbox', async () => {
    const reply = await as('agent').request('gateway.actions.execute', '{}', { timeout: 2000 });
    expect(reply.string()).toBe('"done"');
  });

  it('refuses the agent any subscription to vault, audit, the gateway or the gateway replies', async () => {
    for (const subject of [
      'vault.>',
      'vault.tokens.issue',
      'audit.>',
      `audit.events.${randomUUID()}`,
      'gateway.>',
      '_INBOX.gateway.>',
      '>',
    ]) {
      expect(await subscriptionRefused('agent', subject), subject).toBe(true);
    }
  });

  it('refuses the agent any publish to vault or audit subjects, which never arrive', async () => {
    const before = { ...received };
    expect(await publishViolation('agent', 'vault.tokens.issue')).toMatch(/permission/i);
    expect(await publishViolation('agent', 'audit.health.get')).toMatch(/permission/i);
    expect(await publishViolation('agent', `audit.events.${randomUUID()}`)).toMatch(/permission/i);
    await expect(
      as('agent').request('vault.tokens.issue', '{}', { timeout: 500 }),
    ).rejects.toThrow();
    expect(received).toEqual(before);
  });

  it('lets the agent report progress on gateway.tasks.report, and no other gateway subject', async () => {
    expect(await publishViolation('agent', 'gateway.tasks.report')).toBeUndefined();
    for (const subject of ['gateway.tasks.start', 'gateway.tasks', 'gateway.approvals.decide']) {
      expect(await publishViolation('agent', subject), subject).toMatch(/permission/i);
    }
  });

  it('lets only the gateway hand the agent a task', async () => {
    expect(await publishViolation('gateway', 'agent.tasks.start')).toBeUndefined();
    for (const caller of ['audit', 'vault-proxy'] as const) {
      expect(await publishViolation(caller, 'agent.tasks.start'), caller).toMatch(/permission/i);
    }
  });

  it('lets vault-proxy answer only the gateway', async () => {
    const before = received.vault;
    const reply = await as('gateway').request('vault.tokens.issue', '{}', { timeout: 2000 });
    expect(reply.string()).toBe('"sealed"');
    expect(received.vault).toBe(before + 1);
    for (const caller of ['agent', 'audit'] as const) {
      await expect(
        as(caller).request('vault.tokens.issue', '{}', { timeout: 500 }),
      ).rejects.toThrow();
    }
    expect(received.vault).toBe(before + 1);
  });

  it('lets vault-proxy publish nothing of its own', async () => {
    for (const subject of [
      'gateway.actions.execute',
      `audit.events.${randomUUID()}`,
      'agent.tasks.start',
      '_INBOX.gateway.x',
    ]) {
      expect(await publishViolation('vault-proxy', subject), subject).toMatch(/permission/i);
    }
  });

  it('never lets audit delete or purge its own stream', async () => {
    for (const subject of [
      '$JS.API.STREAM.DELETE.AUDIT_EVENTS',
      '$JS.API.STREAM.PURGE.AUDIT_EVENTS',
      '$JS.API.STREAM.MSG.DELETE.AUDIT_EVENTS',
    ]) {
      expect(await publishViolation('audit', subject), subject).toMatch(/permission/i);
    }
    expect(await publishViolation('audit', '$JS.API.STREAM.INFO.AUDIT_EVENTS')).toBeUndefined();
  });

  it('refuses a wrong password and an unknown user', async () => {
    await expect(connectAs('gateway', 'not-the-password-at-all')).rejects.toThrow(/authorization/i);
    await expect(
      connect({
        servers: server.url,
        user: 'mallory',
        pass: 'whatever-password',
        maxReconnectAttempts: 0,
      }),
    ).rejects.toThrow(/authorization/i);
  });
});
