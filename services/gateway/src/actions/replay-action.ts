import {
  actionDefinition,
  ContractError,
  type CapabilityClaims,
  type RpcRequest,
  type RpcResponse,
  type executeAction,
} from '@heroagent/contracts';
import { canonicalJson, type JsonValue } from '@heroagent/crypto';
import type { ApprovalsRepository } from '../approvals/approvals.repository.js';
import type { PolicyDecision } from '../policy/policy-engine.js';
import type { ActionRow, ActionsRepository } from './actions.repository.js';
import type { FailStaleActions } from './fail-stale-actions.js';

type Request = RpcRequest<typeof executeAction>;
type Response = RpcResponse<typeof executeAction>;

/**
 * A repeated request (same task and idempotency key) gets the first outcome and never acts twice;
 * the same key for a different request is a conflict. A first attempt still running is waited for
 * a while (`retryWaitMs`, then `TIMEOUT`) while the replica running it is alive; once that replica
 * is gone (before the wait or during it), the attempt is settled at once as failed with an
 * unknown outcome, by the same use case as the sweep, and that is the answer: never run again.
 */
export class ReplayAction {
  constructor(
    private readonly actions: ActionsRepository,
    private readonly approvals: ApprovalsRepository,
    private readonly abandoned: FailStaleActions,
    /** How long to wait for a first attempt still running on a live replica. */
    private readonly retryWaitMs: number,
  ) {}

  async execute(row: ActionRow, request: Request, claims: CapabilityClaims): Promise<Response> {
    if (!(await this.actions.sameRequest(row, requestKey(request, claims)))) {
      throw new ContractError(
        'IDEMPOTENCY_CONFLICT',
        'this idempotency key was used for a different request in this task',
      );
    }
    let current = await this.settledIfGone(row);
    const deadline = Date.now() + this.retryWaitMs;
    while (current.status === 'executing' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      current = (await this.actions.get(claims.tenantId, row.id)) ?? current;
    }
    // Its replica may have gone while this waited.
    current = await this.settledIfGone(current);
    switch (current.status) {
      case 'completed':
        return {
          status: 'completed',
          actionId: current.id,
          auditEventId: current.audit_event_id,
          result: current.result as JsonValue,
          undo: { available: actionDefinition(current.type)?.undo.kind === 'compensate' },
        };
      case 'scheduled': {
        // A send held in the outbox: the first answer said when it leaves.
        const held = current.result as { outboxId: string; sendsAt: string };
        return {
          status: 'completed',
          actionId: current.id,
          auditEventId: current.audit_event_id,
          result: held,
          undo: { available: true, until: held.sendsAt },
        };
      }
      case 'pending_approval': {
        const approval = await this.approvals.forAction(claims.tenantId, current.id);
        if (approval === undefined) throw new ContractError('INTERNAL', 'the approval is missing');
        return {
          status: 'pending_approval',
          actionId: current.id,
          auditEventId: current.audit_event_id,
          approvalId: approval.id,
          expiresAt: approval.expires_at.toISOString(),
        };
      }
      case 'denied': {
        const policy = current.policy as PolicyDecision;
        throw new ContractError('POLICY_DENIED', `${policy.reason} (policy ${policy.policyId})`);
      }
      case 'failed': {
        const error = current.error as { code?: string; message?: string } | null;
        throw new ContractError('UPSTREAM_FAILED', error?.message ?? 'the action failed');
      }
      case 'executing':
        throw new ContractError('TIMEOUT', 'the first attempt of this request is still running');
      case 'cancelled': {
        const error = ContractError.fromBody(current.error);
        throw error.code === 'INTERNAL'
          ? new ContractError('ACTION_NOT_ALLOWED', 'the action was cancelled')
          : error;
      }
      default:
        throw new ContractError('ACTION_NOT_ALLOWED', `the action is ${current.status}`);
    }
  }

  /**
   * The action as it stands once settled, if it was `executing` under a replica that is gone; as
   * read again if someone else moved it meanwhile; as it was otherwise.
   */
  private async settledIfGone(row: ActionRow): Promise<ActionRow> {
    if (row.status !== 'executing') return row;
    const settled = await this.abandoned.settleIfExecutorGone(row.tenant_id, row.id);
    if (settled !== undefined) return settled.row;
    return (await this.actions.get(row.tenant_id, row.id)) ?? row;
  }
}

/** What makes two requests the same request: the action, its parameters and the account. */
export function requestKey(request: Request, claims: CapabilityClaims): string {
  return canonicalJson({
    action: request.action,
    params: request.params as JsonValue,
    connectionId: claims.connectionId ?? null,
  });
}
