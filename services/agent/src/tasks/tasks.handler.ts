import { Controller, Inject, type OnApplicationShutdown } from '@nestjs/common';
import {
  listModelProviders,
  startAgentTask,
  stopAgentTask,
  type RpcRequest,
  type RpcResponse,
} from '@heroagent/contracts';
import { RpcHandler } from '@heroagent/service';
import { publicProviders } from '../models/model-choice.js';
import { AGENT_MODELS, type AgentModels } from './tokens.js';
import { TaskRunner } from './task-runner.js';

/**
 * The agent's NATS subjects. Only the gateway may publish to them (deploy/nats): it hands over a
 * task, stops one, and asks which models are on offer.
 */
@Controller()
export class TasksHandler implements OnApplicationShutdown {
  constructor(
    @Inject(TaskRunner) private readonly runner: TaskRunner,
    @Inject(AGENT_MODELS) private readonly models: AgentModels,
  ) {}

  @RpcHandler(startAgentTask)
  start(request: RpcRequest<typeof startAgentTask>): RpcResponse<typeof startAgentTask> {
    return this.runner.start(request);
  }

  @RpcHandler(stopAgentTask)
  stop(request: RpcRequest<typeof stopAgentTask>): RpcResponse<typeof stopAgentTask> {
    return { stopped: this.runner.stop(request.tenantId, request.taskId, request.reason) };
  }

  @RpcHandler(listModelProviders)
  list(): RpcResponse<typeof listModelProviders> {
    return {
      providers: publicProviders(this.models.providers),
      defaultProviderId: this.models.defaultProviderId,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stopAll();
  }
}
