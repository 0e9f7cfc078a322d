import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentTaskStopped, ContractError } from '@heroagent/contracts';
import type { RunningService } from '@heroagent/service';
import { TaskRunner } from '../src/tasks/task-runner.js';
import { startAgentFixture, type AgentFixture } from './support/fixture.js';

const local = { allowCloud: false, providerId: null, cloudMayReadBodies: false };

/**
 * Two agent replicas on one NATS: a stop reaches whichever works on the task, and one tenant
 * takes at most its share of each replica's slots (the gateway holds each tenant's limit across
 * replicas; see services/gateway/test/replicas.test.ts).
 */
describe('two agent replicas', { timeout: 60_000 }, () => {
  let fx: AgentFixture;
  let replicas: RunningService[];

  beforeAll(async () => {
    // Two slots each, one of them per tenant.
    fx = await startAgentFixture({ AGENT_MAX_TASKS: '2' });
    replicas = [fx.agent, await fx.startReplica({ AGENT_MAX_TASKS: '2' })];
  });
  afterAll(() => fx?.close());

  /** Hands a task straight to one replica's runner, as its handler would. */
  function startOn(replica: RunningService, tenantId?: string) {
    const { token, claims } = fx.capability({
      actions: ['gmail.messages.search'],
      ...(tenantId === undefined ? {} : { tenantId }),
    });
    replica.app.get(TaskRunner).start({
      tenantId: claims.tenantId,
      userId: claims.userId,
      taskId: claims.taskId,
      text: 'Think forever',
      capability: token,
      models: local,
    });
    return claims;
  }

  const refusalOf = (work: () => unknown) => {
    try {
      work();
      return undefined;
    } catch (error) {
      return error instanceof ContractError ? error.code : 'not a ContractError';
    }
  };

  it('stops a task on whichever replica works on it when the gateway announces the stop', async () => {
    await fx.resetGateway();
    fx.model.clearScript();
    fx.model.script({ hang: true });
    const claims = startOn(replicas[1]!);
    await fx.client.publish(agentTaskStopped, {
      tenantId: claims.tenantId,
      taskId: claims.taskId,
      reason: 'changed my mind',
    });
    expect(await fx.gateway.ended()).toMatchObject({
      kind: 'stopped',
      code: 'TASK_STOPPED',
      message: 'the task was stopped: changed my mind',
    });
    // An event, not a request: no replica's request server saw it (and refused it unanswered).
    expect(replicas.map((replica) => replica.refusals.total())).toEqual([0, 0]);
  });

  it('gives one tenant at most its share of each replica, and another tenant the rest', async () => {
    await fx.resetGateway();
    fx.model.clearScript();
    fx.model.script({ hang: true }, { hang: true }, { hang: true }, { hang: true });
    const busy = startOn(replicas[0]!).tenantId;
    startOn(replicas[1]!, busy);
    for (const replica of replicas) {
      expect(refusalOf(() => startOn(replica, busy))).toBe('RATE_LIMITED');
    }
    const other = startOn(replicas[0]!).tenantId;
    startOn(replicas[1]!, other);
    expect(replicas.map((replica) => replica.app.get(TaskRunner).size)).toEqual([2, 2]);
    for (const replica of replicas) await replica.app.get(TaskRunner).stopAll();
  });
});
