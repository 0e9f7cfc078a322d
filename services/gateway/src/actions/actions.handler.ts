import { Controller, Inject } from '@nestjs/common';
import { executeAction, getAction, type RpcRequest } from '@heroagent/contracts';
import { RpcHandler } from '@heroagent/service';
import { ExecuteAction } from './execute-action.js';
import { GetAction } from './get-action.js';

/** The agent's one door: `gateway.actions.execute` (NATS permissions let only the agent and the gateway reach it). */
@Controller()
export class ActionsHandler {
  constructor(
    @Inject(ExecuteAction) private readonly executeAction: ExecuteAction,
    @Inject(GetAction) private readonly getAction: GetAction,
  ) {}

  @RpcHandler(executeAction)
  execute(request: RpcRequest<typeof executeAction>) {
    return this.executeAction.execute(request);
  }

  @RpcHandler(getAction)
  get(request: RpcRequest<typeof getAction>) {
    return this.getAction.execute(request);
  }
}
