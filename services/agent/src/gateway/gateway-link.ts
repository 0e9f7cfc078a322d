import {
  executeAction,
  getAction,
  reportTaskProgress,
  type RpcRequestInput,
  type RpcResponse,
  type TaskEvent,
} from '@heroagent/contracts';
import type { ContractClient } from '@heroagent/service';

/**
 * Everything the agent can ask of the gateway, and nothing more: act under a capability, ask how
 * an action stands, report progress. (Its NATS user may publish nowhere else.)
 */
export interface Gateway {
  execute(
    request: RpcRequestInput<typeof executeAction>,
  ): Promise<RpcResponse<typeof executeAction>>;
  action(capability: string, actionId: string): Promise<RpcResponse<typeof getAction>>;
  report(capability: string, events: readonly TaskEvent[]): Promise<{ running: boolean }>;
}

/** The gateway over NATS. */
export class NatsGateway implements Gateway {
  constructor(
    private readonly client: ContractClient,
    /** An action may wait on a provider; the gateway answers within its own timeouts. */
    private readonly actionTimeoutMs = 60_000,
  ) {}

  execute(request: RpcRequestInput<typeof executeAction>) {
    return this.client.request(executeAction, request, { timeoutMs: this.actionTimeoutMs });
  }

  action(capability: string, actionId: string) {
    return this.client.request(getAction, { capability, actionId });
  }

  async report(capability: string, events: readonly TaskEvent[]) {
    const answer = await this.client.request(reportTaskProgress, {
      capability,
      events: [...events],
    });
    return { running: answer.running };
  }
}
