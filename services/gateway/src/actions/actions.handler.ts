import { Controller, Inject } from '@nestjs/common';
import { executeAction, getAction, type RpcRequest } from '@heroagent/contracts';
import { RpcHandler } from '@heroagent/service';
import { ActionExecutor } from './action-executor.js';

/** The agent's one door: `gateway.actions.execute` (NATS permissions let only the agent and the gateway reach it). */
@Controller()
export class ActionsHandler {
  constructor(@Inject(ActionExecutor) private readonly executor: ActionExecutor) {}

  @RpcHandler(executeAction)
  execute(request: RpcRequest<typeof executeAction>) {
    return this.executor.execute(request);
  }

  @RpcHandler(getAction)
  get(request: RpcRequest<typeof getAction>) {
    return this.executor.status(request);
  }
}
