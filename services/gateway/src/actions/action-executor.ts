import type { RpcRequest, RpcResponse, executeAction, getAction } from '@heroagent/contracts';
import type { ExecuteAction } from './execute-action.js';
import type { FailStaleActions } from './fail-stale-actions.js';
import type { GetAction } from './get-action.js';
import type { ReleaseDueSends } from './release-due-sends.js';

export type { ActingFor } from './action-events.js';

/**
 * The actions an agent asks for, as the rest of the gateway reaches them: the agent's requests
 * (`gateway.actions.execute` and `.get`) and the housekeeping sweeps. Each is its own use case;
 * this only names them in one place.
 */
export class ActionExecutor {
  constructor(
    private readonly executeAction: ExecuteAction,
    private readonly getAction: GetAction,
    private readonly releaseDueSends: ReleaseDueSends,
    private readonly failStaleActions: FailStaleActions,
  ) {}

  execute(request: RpcRequest<typeof executeAction>): Promise<RpcResponse<typeof executeAction>> {
    return this.executeAction.execute(request);
  }

  /** Where one of the task's actions stands (the agent asks after an approval). */
  status(request: RpcRequest<typeof getAction>): Promise<RpcResponse<typeof getAction>> {
    return this.getAction.execute(request);
  }

  /** Releases the sends that are due: each leaves once, with its audit event. */
  releaseDue(now?: Date): Promise<number> {
    return this.releaseDueSends.execute(now);
  }

  /** Marks actions a crash left running as failed with an unknown outcome, recorded. */
  failStale(now?: Date): Promise<number> {
    return this.failStaleActions.execute(now);
  }
}
