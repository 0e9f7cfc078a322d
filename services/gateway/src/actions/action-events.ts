import type { ActionDefinition, CapabilityClaims } from '@heroagent/contracts';
import type { AuditRecord, AuditRecorder } from '../audit/audit-recorder.js';
import type { PolicyDecision } from '../policy/policy-engine.js';

/** On whose behalf, under which task and capability, an action runs. */
export interface ActingFor {
  readonly tenantId: string;
  readonly userId: string;
  readonly taskId: string;
  readonly connectionId: string | undefined;
  readonly capabilityId: string;
}

export function actingFor(claims: CapabilityClaims): ActingFor {
  return {
    tenantId: claims.tenantId,
    userId: claims.userId,
    taskId: claims.taskId,
    connectionId: claims.connectionId,
    capabilityId: claims.id,
  };
}

/** The approval an action ran after, and who approved: part of the explanation. */
export interface ApprovalOfAction {
  readonly id: string;
  readonly approvedBy: readonly string[];
}

/** What happened to an action, as its audit event tells it. */
export interface ActionHappening {
  readonly name: string;
  readonly outcome: AuditRecord['outcome'];
  readonly actionId: string;
  readonly related?: string;
  readonly approvalId?: string;
  readonly approval?: ApprovalOfAction;
  readonly error?: { code: string; message: string };
  /** Parameters the agent took from content it read (on the request's event). */
  readonly untrustedParams?: readonly string[];
}

/** The audit event of a step of an action, written in the transaction of that step. */
export function actionEvent(
  audit: AuditRecorder,
  by: ActingFor,
  rationale: string,
  definition: ActionDefinition,
  decision: PolicyDecision,
  what: ActionHappening,
) {
  return audit.within({
    tenantId: by.tenantId,
    name: what.name,
    actor: { type: 'agent', id: by.taskId },
    userId: by.userId,
    taskId: by.taskId,
    action: definition.type,
    outcome: what.outcome,
    rationale,
    policy: { effect: decision.effect, policyId: decision.policyId, reason: decision.reason },
    ...(what.related === undefined ? {} : { relatedEventId: what.related }),
    data: {
      actionId: what.actionId,
      class: definition.class,
      capabilityId: by.capabilityId,
      connectionId: by.connectionId ?? null,
      ...(what.approvalId === undefined ? {} : { approvalId: what.approvalId }),
      ...(what.approval === undefined
        ? {}
        : { approvalId: what.approval.id, approvedBy: [...what.approval.approvedBy] }),
      ...(what.error === undefined ? {} : { error: { code: what.error.code } }),
      ...(what.untrustedParams === undefined ? {} : { untrustedParams: [...what.untrustedParams] }),
    },
    // A provider's message may repeat what it was sent (an address it refused): sealed.
    ...(what.error === undefined ? {} : { personal: { errorMessage: what.error.message } }),
  });
}

/**
 * The audit event of a held action cancelled before it ran: by a person (a stop, a pause, a
 * removal), or by the gateway when checking it again found it may no longer go.
 */
export function cancelledEvent(
  audit: AuditRecorder,
  row: {
    readonly id: string;
    readonly tenant_id: string;
    readonly user_id: string;
    readonly task_id: string;
    readonly type: string;
    readonly audit_event_id: string;
  },
  by: { readonly type: 'user' | 'service'; readonly id: string },
  error: { readonly code: string; readonly message: string },
) {
  return audit.within({
    tenantId: row.tenant_id,
    name: 'action.cancelled',
    actor: by,
    userId: row.user_id,
    taskId: row.task_id,
    action: row.type,
    outcome: 'failure',
    relatedEventId: row.audit_event_id,
    data: { actionId: row.id, code: error.code },
    // Why it may no longer go can quote a policy's reason, which may name someone: sealed.
    personal: { reason: error.message },
  });
}
