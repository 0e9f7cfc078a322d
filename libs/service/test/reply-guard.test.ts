import { randomUUID } from 'node:crypto';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineRpc } from '@heroagent/contracts';
import { createLogger } from '@heroagent/telemetry';
import {
  RefusedRequests,
  RpcHandler,
  natsEnvSchema,
  parseConfig,
  startMicroservice,
} from '../src/index.js';
import { startNatsServer, type TestNatsServer } from '../src/testing/index.js';

// As gateway.actions.execute: the gateway answers, and only the agent may ask.
const probe = defineRpc({
  subject: 'gateway.guard.probe',
  request: z.object({ n: z.number() }),
  response: z.object({ n: z.number() }),
  errors: [],
  callers: ['agent'],
  description: 'reply guard test',
});

let calls = 0;

@Controller()
class ProbeHandler {
  @RpcHandler(probe)
  answer(request: { n: number }) {
    calls += 1;
    return { n: request.n };
  }
}

@Module({ controllers: [ProbeHandler] })
class ProbeModule {}

describe('a service answers only on reply subjects under its callers’ inboxes (real NATS)', () => {
  let server: TestNatsServer;
  let app: INestMicroservice;
  let attacker: NatsConnection;
  let spy: NatsConnection;
  const seen: Msg[] = [];
  const refusals = new RefusedRequests(
    'gateway',
    createLogger({ service: 'gateway', level: 'silent' }),
  );
  const tenant = randomUUID();

  /** Resolves with the first message the spy sees on `subject`. */
  function nextOn(subject: string): Promise<Msg> {
    return new Promise((resolve) => {
      const check = setInterval(() => {
        const found = seen.find((message) => message.subject === subject);
        if (found !== undefined) {
          clearInterval(check);
          resolve(found);
        }
      }, 10);
    });
  }

  beforeAll(async () => {
    // A server of its own, so the spy may watch every subject, and a stream like audit's.
    server = await startNatsServer({ jetstream: true });
    const nats = parseConfig(natsEnvSchema, { NATS_URL: server.url });
    app = await startMicroservice({
      service: 'gateway',
      module: ProbeModule,
      nats,
      logger: createLogger({ service: 'gateway', level: 'silent' }),
      refusals,
    });
    spy = await connect({ servers: server.url });
    spy.subscribe('>', {
      callback: (_error, message) => {
        seen.push(message);
      },
    });
    await spy.flush();
    attacker = await connect({ servers: server.url });
    await attacker.request(
      '$JS.API.STREAM.CREATE.AUDIT_EVENTS',
      JSON.stringify({ name: 'AUDIT_EVENTS', subjects: ['audit.events.*'] }),
    );
  });

  afterAll(async () => {
    await attacker?.close();
    await spy?.close();
    await app?.close();
    await server?.stop();
  });

  it('answers the agent on its own inbox', async () => {
    const answer = nextOn('_INBOX.agent.first');
    attacker.publish(probe.subject, JSON.stringify({ n: 1 }), { reply: '_INBOX.agent.first' });
    expect((await answer).json()).toMatchObject({ response: { n: 1 } });
  });

  it('sends nothing to a reply subject of any other class, calls no handler, and counts each', async () => {
    const targets = [
      '_INBOX.gateway.x',
      '_INBOX.vault-proxy.x',
      '_INBOX.audit.x',
      '_INBOX.gateway-relay.x',
      `audit.events.${tenant}`,
      'audit.records.query',
      '$JS.API.STREAM.INFO.AUDIT_EVENTS',
      '$JS.API.STREAM.UPDATE.AUDIT_EVENTS',
      'agent.tasks.start',
      'vault.tokens.issue',
      '_INBOX.agent.*',
      '_INBOX.agent',
    ];
    // nats-server itself never delivers a request naming a JetStream acknowledgement as its reply.
    const ack = '$JS.ACK.AUDIT_EVENTS.audit-ingest.1.1.1.1.1';
    const callsBefore = calls;
    const refusedBefore = refusals.total(probe.subject, 'REPLY_OUTSIDE_CALLER_INBOX');
    for (const reply of [...targets, ack])
      attacker.publish(probe.subject, JSON.stringify({ n: 2 }), { reply });
    // And one with no reply subject at all.
    attacker.publish(probe.subject, JSON.stringify({ n: 3 }));
    // Requests are read in order: once the agent's next answer is back, every one before it was
    // handled, and anything the server had published for them would have reached the spy first.
    const last = nextOn('_INBOX.agent.last');
    attacker.publish(probe.subject, JSON.stringify({ n: 4 }), { reply: '_INBOX.agent.last' });
    await last;
    for (const reply of [...targets, ack])
      expect(
        seen.filter((message) => message.subject === reply),
        reply,
      ).toEqual([]);
    expect(calls).toBe(callsBefore + 1);
    expect(refusals.total(probe.subject, 'REPLY_OUTSIDE_CALLER_INBOX')).toBe(
      refusedBefore + targets.length,
    );
    expect(refusals.total(probe.subject, 'NO_REPLY_SUBJECT')).toBe(1);
    const info = await attacker.request('$JS.API.STREAM.INFO.AUDIT_EVENTS');
    expect(info.json<{ state: { messages: number } }>().state.messages).toBe(0);
    // The spy does see that subject (the request just made): its silence above means something.
    await nextOn('$JS.API.STREAM.INFO.AUDIT_EVENTS');
  });
});
