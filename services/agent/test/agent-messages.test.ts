import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContractError,
  listModelProviders,
  startAgentTask,
  stopAgentTask,
  type RpcContract,
} from '@heroagent/contracts';
import { startAgentFixture, type AgentFixture } from './support/fixture.js';

let fx: AgentFixture;

beforeAll(async () => {
  fx = await startAgentFixture({ AGENT_MAX_TASKS: '1' });
}, 60_000);
afterAll(async () => {
  await fx?.close();
});

const local = { allowCloud: false, providerId: null, cloudMayReadBodies: false };

async function rawRequest(subject: string, payload: string) {
  const reply = await fx.raw.request(subject, payload, { timeout: 5_000 });
  return reply.json<{ err?: { code: string; issues?: { path: string }[] }; response?: unknown }>();
}

function validStart() {
  const { token, claims } = fx.capability({ actions: ['gmail.messages.search'] });
  return {
    tenantId: claims.tenantId,
    userId: claims.userId,
    taskId: claims.taskId,
    text: 'Look for mail from Bob',
    capability: token,
    models: local,
  };
}

describe('bad messages on every agent subject get coded errors and start nothing', () => {
  const contracts: RpcContract[] = [startAgentTask, stopAgentTask, listModelProviders];

  it.each(contracts.map((contract) => [contract.subject]))('%s: not JSON', async (subject) => {
    expect((await rawRequest(subject, 'not json {')).err?.code).toBe('INVALID_REQUEST');
  });

  it.each(contracts.map((contract) => [contract.subject]))(
    '%s: fields outside the contract',
    async (subject) => {
      const answer = await rawRequest(subject, JSON.stringify({ surprise: true }));
      expect(answer.err?.code).toBe('INVALID_REQUEST');
      expect(answer.err?.issues?.length).toBeGreaterThan(0);
    },
  );

  it('agent.tasks.start: each missing or malformed field is named', async () => {
    const good = validStart();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, text: '   ' }, 'text'],
      [{ ...good, text: 'x'.repeat(4001) }, 'text'],
      [{ ...good, tenantId: 'acme' }, 'tenantId'],
      [{ ...good, capability: 'not a capability' }, 'capability'],
      [{ ...good, models: { allowCloud: 'yes' } }, 'models.allowCloud'],
      [{ ...good, models: { ...local, providerId: 'Bad Id!' } }, 'models.providerId'],
    ];
    for (const [payload, path] of cases) {
      const answer = await rawRequest('agent.tasks.start', JSON.stringify(payload));
      expect(answer.err?.code, path).toBe('INVALID_REQUEST');
      expect(
        answer.err?.issues?.map((issue) => issue.path),
        path,
      ).toContain(path);
    }
    expect(fx.model.requests).toEqual([]);
    expect(fx.gateway.events).toEqual([]);
  });

  it('agent.tasks.start: a capability for another task, person or tenant, or one that is garbled, is refused', async () => {
    const good = validStart();
    const other = fx.capability({ actions: ['gmail.messages.search'] }).token;
    const [claims, signature] = good.capability.split('.');
    for (const payload of [
      { ...good, capability: other },
      { ...good, taskId: randomUUID() },
      { ...good, userId: randomUUID() },
      { ...good, tenantId: randomUUID() },
      { ...good, capability: `${claims!.slice(0, -4)}AAAA.${signature}` },
    ]) {
      await expect(fx.client.request(startAgentTask, payload)).rejects.toMatchObject({
        code: 'CAPABILITY_INVALID',
      });
    }
    expect(fx.gateway.events).toEqual([]);
  });

  it('agent.tasks.start: the same task twice is a CONFLICT; past the limit of tasks, RATE_LIMITED', async () => {
    fx.model.script({ hang: true });
    const first = validStart();
    await fx.client.request(startAgentTask, first);
    await expect(fx.client.request(startAgentTask, first)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(fx.client.request(startAgentTask, validStart())).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    await fx.client.request(stopAgentTask, { tenantId: first.tenantId, taskId: first.taskId });
    await fx.gateway.ended();
  });

  it('agent.tasks.stop: another tenant cannot stop a task', async () => {
    fx.model.script({ hang: true });
    const task = validStart();
    // The task stopped above frees its place once its last report is through.
    for (let attempt = 0; ; attempt += 1) {
      const answer = await fx.client.request(startAgentTask, task).catch((error: unknown) => error);
      if (!(answer instanceof ContractError && answer.code === 'RATE_LIMITED') || attempt > 50) {
        expect(answer).toMatchObject({ accepted: true });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await expect(
      fx.client.request(stopAgentTask, { tenantId: randomUUID(), taskId: task.taskId }),
    ).resolves.toEqual({ stopped: false });
    await expect(
      fx.client.request(stopAgentTask, { tenantId: task.tenantId, taskId: task.taskId }),
    ).resolves.toEqual({ stopped: true });
  });
});
