import {
  agentTaskStopped,
  ContractError,
  listModelProviders,
  startAgentTask,
  type EventPayload,
  type RpcRequestInput,
  type RpcResponse,
} from '@heroagent/contracts';
import type { ContractClient } from '@heroagent/service';

/**
 * The gateway's side of the agent service: it hands the agent a task, tells it to stop one, and
 * asks which model providers the deployment has. The agent holds no credentials; what it is
 * given is the person's words and the task's capability.
 */
export class AgentClient {
  constructor(private readonly client: ContractClient) {}

  /** Hands a task to the agent; its refusal (or the transport's failure) is thrown as is. */
  startTask(
    task: RpcRequestInput<typeof startAgentTask>,
  ): Promise<RpcResponse<typeof startAgentTask>> {
    return this.client.request(startAgentTask, task);
  }

  /**
   * Tells every agent replica that a task stopped: the one working on it stops at once. (A
   * request would reach one replica of the queue group, not necessarily that one.)
   */
  stopTask(stop: EventPayload<typeof agentTaskStopped>): Promise<void> {
    return this.client.publish(agentTaskStopped, stop);
  }

  /** The providers on offer; UNAVAILABLE when the agent cannot tell. */
  async providers(): Promise<RpcResponse<typeof listModelProviders>> {
    try {
      return await this.client.request(listModelProviders, {});
    } catch (error) {
      const code = error instanceof ContractError ? error.code : 'INTERNAL';
      throw new ContractError(
        'UNAVAILABLE',
        `the agent service could not list its model providers (${code})`,
      );
    }
  }
}
