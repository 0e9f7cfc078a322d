import { ContractError, getAction, type RpcRequest, type RpcResponse } from '@heroagent/contracts';
import type { JsonValue } from '@heroagent/crypto';
import type { ApprovalsRepository } from '../approvals/approvals.repository.js';
import type { CapabilityGate } from '../tasks/capability-gate.js';
import type { ActionsRepository } from './actions.repository.js';

/** Where one of the task's actions stands (the agent asks after an approval). */
export class GetAction {
  constructor(
    private readonly gate: CapabilityGate,
    private readonly actions: ActionsRepository,
    private readonly approvals: ApprovalsRepository,
  ) {}

  async execute(request: RpcRequest<typeof getAction>): Promise<RpcResponse<typeof getAction>> {
    const claims = await this.gate.admit(request.capability, { action: getAction.subject });
    const row = await this.actions.get(claims.tenantId, request.actionId);
    if (row === undefined || row.task_id !== claims.taskId) {
      throw new ContractError('NOT_FOUND', 'the task has no such action');
    }
    const approval = await this.approvals.forAction(claims.tenantId, row.id);
    const stored = row.error as { code?: unknown; message?: unknown } | null;
    const error =
      stored === null
        ? null
        : {
            code: typeof stored.code === 'string' ? stored.code : 'UPSTREAM_FAILED',
            message: typeof stored.message === 'string' ? stored.message : '',
          };
    return {
      actionId: row.id,
      action: row.type,
      status: row.status,
      ...(row.result === null ? {} : { result: row.result as JsonValue }),
      ...(error === null ? {} : { error }),
      ...(approval === undefined
        ? {}
        : {
            approval: {
              id: approval.id,
              status: approval.status,
              expiresAt: approval.expires_at.toISOString(),
            },
          }),
    };
  }
}
