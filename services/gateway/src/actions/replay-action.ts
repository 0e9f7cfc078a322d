import { createHash } from 'node:crypto';
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

type Request = RpcRequest<typeof executeAction>;
type Response = RpcResponse<typeof executeAction>;

/** How long a retry waits for the first attempt of the same request to finish. */
const RETRY_WAIT_MS = 10_000;

/**
 * A repeated request (same task and idempotency key) gets the first outcome — waiting a while
 * for a first attempt still running — and never acts twice; the same key for a different request
 * is a conflict.
 */
export class ReplayAction {
  constructor(
    private readonly actions: ActionsRepository,
    private readonly approvals: ApprovalsRepository,
  ) {}

  async execute(row: ActionRow, request: Request, claims: CapabilityClaims): Promise<Response> {
    if (!row.request_hash.equals(requestHash(request, claims))) {
      throw new ContractError(
        'IDEMPOTENCY_CONFLICT',
        'this idempotency key was used for a different request in this task',
      );
    }
    const deadline = Date.now() + RETRY_WAIT_MS;
    let current = row;
    while (current.status === 'executing' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      current = (await this.actions.get(claims.tenantId, row.id)) ?? current;
    }
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
}

/** What makes two requests the same request: the action, its parameters and the account. */
export function requestHash(request: Request, claims: CapabilityClaims): Buffer {
  return createHash('sha256')
    .update(
      canonicalJson({
        action: request.action,
        params: request.params as JsonValue,
        connectionId: claims.connectionId ?? null,
      }),
    )
    .digest();
}
