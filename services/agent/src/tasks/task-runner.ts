import {
  ContractError,
  readCapabilityClaims,
  type ModelRef,
  type RpcRequest,
  type startAgentTask,
} from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { AgentConfig } from '../config.js';
import type { Gateway } from '../gateway/gateway-link.js';
import type { ChatModel } from '../models/chat-model.js';
import { chooseProvider } from '../models/model-choice.js';
import type { ProviderConfig } from '../config.js';
import { TaskHalted, TaskRun } from './task-run.js';
import { Timeline } from './timeline.js';

/** Builds the model client for a provider (the AI SDK in production, anything in a test). */
export type ModelFactory = (provider: ProviderConfig) => ChatModel;

interface Running {
  readonly tenantId: string;
  readonly controller: AbortController;
  readonly done: Promise<unknown>;
}

/**
 * The tasks this agent works on, at most `maxConcurrent` at once and `maxPerTenant` of one
 * tenant, so one tenant cannot take every slot of this replica (the slots are this process's
 * resources; each tenant's limit across replicas is the gateway's to hold). Starting checks that the
 * capability is for the task it came with and chooses the model from the tenant's settings;
 * the work then runs in the background and reports to the task's timeline. Stopping aborts the
 * model call or approval wait in progress.
 */
export class TaskRunner {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly config: Pick<AgentConfig, 'models' | 'tasks'>,
    private readonly models: ModelFactory,
    private readonly gateway: Gateway,
    private readonly logger: Logger,
  ) {}

  start(request: RpcRequest<typeof startAgentTask>): { accepted: true; model: ModelRef } {
    const claims = readCapabilityClaims(request.capability);
    if (
      claims === undefined ||
      claims.tenantId !== request.tenantId ||
      claims.userId !== request.userId ||
      claims.taskId !== request.taskId
    ) {
      throw new ContractError(
        'CAPABILITY_INVALID',
        'the capability is not one for this task of this person',
      );
    }
    if (this.running.has(request.taskId)) {
      throw new ContractError('CONFLICT', 'the agent already works on this task');
    }
    if (this.running.size >= this.config.tasks.maxConcurrent) {
      throw new ContractError('RATE_LIMITED', 'the agent is working on as many tasks as it may');
    }
    if (this.tenantTasks(request.tenantId) >= this.config.tasks.maxPerTenant) {
      throw new ContractError(
        'RATE_LIMITED',
        "the agent is working on as many of this tenant's tasks as it may",
      );
    }
    const { provider, ref } = chooseProvider(
      this.config.models.providers,
      this.config.models.defaultProviderId,
      request.models,
    );
    const controller = new AbortController();
    const timeline = new Timeline(this.gateway, request.capability, this.logger, () =>
      controller.abort(new TaskHalted('TASK_STOPPED', 'the task was stopped or has expired')),
    );
    const run = new TaskRun(
      { ...request, claims },
      this.models(provider),
      ref,
      this.gateway,
      timeline,
      controller.signal,
      {
        maxSteps: this.config.tasks.maxSteps,
        approvalPollMs: this.config.tasks.approvalPollMs,
        privacy: {
          redact: provider.location === 'cloud',
          bodiesInClear: request.models.cloudMayReadBodies,
        },
      },
      this.logger.child({ taskId: request.taskId, tenantId: request.tenantId }),
    );
    const done = run
      .run()
      .then((ending) =>
        this.logger.info({ taskId: request.taskId, ending }, 'the agent finished a task'),
      )
      .finally(() => this.running.delete(request.taskId));
    this.running.set(request.taskId, { tenantId: request.tenantId, controller, done });
    return { accepted: true, model: ref };
  }

  /** Stops a task now; false if the agent was not working on it (or already stopping it). */
  stop(tenantId: string, taskId: string, reason: string): boolean {
    const task = this.running.get(taskId);
    if (task === undefined || task.tenantId !== tenantId || task.controller.signal.aborted) {
      return false;
    }
    task.controller.abort(
      new TaskHalted(
        'TASK_STOPPED',
        reason === '' ? 'the task was stopped' : `the task was stopped: ${reason}`,
      ),
    );
    return true;
  }

  private tenantTasks(tenantId: string): number {
    let count = 0;
    for (const task of this.running.values()) if (task.tenantId === tenantId) count += 1;
    return count;
  }

  /** Tasks in progress. */
  get size(): number {
    return this.running.size;
  }

  /** Stops every task (the agent is shutting down) and waits until each has reported its end. */
  async stopAll(): Promise<void> {
    for (const task of this.running.values()) {
      task.controller.abort(new TaskHalted('AGENT_SHUTDOWN', 'the agent is shutting down'));
    }
    await Promise.allSettled([...this.running.values()].map((task) => task.done));
  }
}
