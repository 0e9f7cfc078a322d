import { actionDefinition, ContractError, type UndoStrategy } from '@heroagent/contracts';
import type { JsonValue } from '@heroagent/crypto';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { PerformAction } from '../actions/perform-action.js';
import type { ActionsRepository } from '../actions/actions.repository.js';
import { managesTenant, overseesTenant } from '../http/route.js';
import type { ResolvedSession } from '../sessions/sessions.repository.js';
import type { PolicyDecision } from '../policy/policy-engine.js';
import type { TasksRepository } from '../tasks/tasks.repository.js';
import type { ApprovalDecision, ApprovalRow, ApprovalsRepository } from './approvals.repository.js';

type InTenant = ResolvedSession & { tenant: NonNullable<ResolvedSession['tenant']> };
type ListedApproval = Awaited<ReturnType<ApprovalsRepository['list']>>[number];

function undoText(undo: UndoStrategy | undefined): string {
  if (undo === undefined) return 'unknown';
  return undo.kind === 'none' ? `cannot be undone: ${undo.reason}` : undo.description;
}

/** An approval as people see it: what exactly they approve, why it waits, whether it can be undone. */
export function approvalView(row: ListedApproval) {
  const policy = row.policy as PolicyDecision;
  return {
    id: row.id,
    actionId: row.action_id,
    taskId: row.task_id,
    userId: row.user_id,
    action: row.type,
    class: row.class,
    params: row.params as JsonValue,
    rationale: row.rationale,
    reason: row.reason,
    policyId: policy.policyId,
    undo: undoText(actionDefinition(row.type)?.undo),
    status: row.status,
    required: row.required,
    decisions: row.decisions as ApprovalDecision[],
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
  };
}

/**
 * Approvals: the action's person (or an owner or admin) approves or denies; purchases over the
 * threshold need a second, different person. The last approval runs the action once — a retry,
 * or two people approving at once, never runs it twice — unless its task was stopped or its
 * tenant's agents paused meanwhile.
 */
export class ApprovalsService {
  constructor(
    private readonly approvals: ApprovalsRepository,
    private readonly actions: ActionsRepository,
    private readonly tasks: TasksRepository,
    private readonly performAction: PerformAction,
    private readonly audit: AuditRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(session: InTenant, all: boolean) {
    // Owners, admins and auditors see the tenant's; a member their own.
    const rows = await this.approvals.list(session.tenant.id, {
      ...(overseesTenant(session) ? {} : { userId: session.userId }),
      pendingOnly: !all,
    });
    return rows.map(approvalView);
  }

  /** One approval as people see it. */
  async view(tenantId: string, id: string) {
    const [row] = await this.approvals.list(tenantId, { pendingOnly: false, id });
    if (row === undefined) throw new ContractError('NOT_FOUND', 'no such approval');
    return approvalView(row);
  }

  async approve(session: InTenant, id: string, note: string) {
    const approval = await this.visible(session, id);
    if (approval.status === 'approved') {
      // Approved before, but not yet run (a crash, or the caller gave up waiting): run it now.
      return { approval, outcome: await this.run(approval) };
    }
    const decided = await this.decide(session, approval, 'approve', note);
    const outcome = decided.status === 'approved' ? await this.run(decided) : { status: 'pending' };
    return { approval: decided, outcome };
  }

  async deny(session: InTenant, id: string, note: string) {
    return this.decide(session, await this.visible(session, id), 'deny', note);
  }

  /** Expires what nobody decided in time, recording each. */
  expire(now: Date = this.now()): Promise<number> {
    return this.approvals.expire(now, (approval) =>
      this.audit.within({
        tenantId: approval.tenant_id,
        name: 'approval.expired',
        actor: { type: 'service', id: 'gateway' },
        userId: approval.user_id,
        outcome: 'failure',
        data: { approvalId: approval.id, actionId: approval.action_id },
      }),
    );
  }

  private async visible(session: InTenant, id: string): Promise<ApprovalRow> {
    const approval = await this.approvals.get(session.tenant.id, id);
    const manager = managesTenant(session);
    if (approval === undefined || (approval.user_id !== session.userId && !manager)) {
      throw new ContractError('NOT_FOUND', 'no such approval');
    }
    return approval;
  }

  private async decide(
    session: InTenant,
    approval: ApprovalRow,
    decision: 'approve' | 'deny',
    note: string,
  ): Promise<ApprovalRow> {
    const now = this.now();
    const action = await this.actions.get(session.tenant.id, approval.action_id);
    if (action === undefined) throw new ContractError('NOT_FOUND', 'no such approval');
    const updated = await this.approvals.decide(
      session.tenant.id,
      approval.id,
      (current, decisions) => {
        if (current.status !== 'pending') {
          throw new ContractError('CONFLICT', `the approval is already ${current.status}`);
        }
        if (current.expires_at <= now) {
          throw new ContractError('CONFLICT', 'the approval has expired');
        }
        if (decisions.some((earlier) => earlier.userId === session.userId)) {
          throw new ContractError('CONFLICT', 'you have already decided; another person must');
        }
        const next = [
          ...decisions,
          { userId: session.userId, decision, at: now.toISOString(), note },
        ];
        const complete = decision === 'deny' || next.length >= current.required;
        const status = decision === 'deny' ? 'denied' : complete ? 'approved' : 'pending';
        return {
          decisions: next,
          status,
          ...(status === 'approved' ? { actionStatus: 'approved' as const } : {}),
          ...(status === 'denied' ? { actionStatus: 'rejected' as const } : {}),
          within: this.audit.within({
            tenantId: session.tenant.id,
            name:
              status === 'approved'
                ? 'action.approved'
                : status === 'denied'
                  ? 'action.rejected'
                  : 'approval.recorded',
            actor: { type: 'user', id: session.userId },
            userId: current.user_id,
            taskId: action.task_id,
            action: action.type,
            outcome: status === 'denied' ? 'denied' : 'success',
            relatedEventId: action.audit_event_id,
            data: {
              actionId: action.id,
              approvalId: current.id,
              approvals: next.filter((d) => d.decision === 'approve').length,
              required: current.required,
              note,
            },
          }),
        };
      },
      now,
    );
    if (updated === undefined) throw new ContractError('NOT_FOUND', 'no such approval');
    this.audit.committed();
    return updated;
  }

  /** Runs an approved action once, if its task may still act. */
  private async run(approval: ApprovalRow): Promise<JsonValue> {
    const tenantId = approval.tenant_id;
    const action = await this.actions.get(tenantId, approval.action_id);
    const task = action && (await this.tasks.get(tenantId, action.task_id));
    if (action === undefined || task === undefined) {
      throw new ContractError('NOT_FOUND', 'no such action');
    }
    const definition = actionDefinition(action.type)!;
    const standing = await this.tasks.standing(tenantId, task.id, task.capability_id);
    if (standing === 'paused') {
      // It stays approved: it runs when the agents are resumed and someone approves again.
      throw new ContractError('TENANT_PAUSED', "this tenant's agents are paused");
    }
    if (standing !== 'live' && action.status === 'approved') {
      await this.actions.finish(
        tenantId,
        action.id,
        'approved',
        {
          status: 'cancelled',
          error: { code: 'CAPABILITY_REVOKED', message: 'the task was stopped' },
        },
        this.audit.within({
          tenantId,
          name: 'action.cancelled',
          actor: { type: 'service', id: 'gateway' },
          userId: action.user_id,
          taskId: task.id,
          action: action.type,
          outcome: 'failure',
          relatedEventId: action.audit_event_id,
          data: { actionId: action.id, reason: 'its task was stopped before it could run' },
        }),
      );
      this.audit.committed();
      throw new ContractError(
        'CAPABILITY_REVOKED',
        'the task was stopped: the action will not run',
      );
    }
    if (!(await this.approvals.claim(tenantId, action.id, this.now()))) {
      const current = await this.actions.get(tenantId, action.id);
      return {
        status: current?.status ?? 'unknown',
        result: (current?.result ?? null) as JsonValue,
      };
    }
    const claimed = { ...action, status: 'executing' as const };
    const outcome = await this.performAction.execute(
      claimed,
      definition,
      {
        tenantId,
        userId: action.user_id,
        taskId: task.id,
        connectionId: action.connection_id ?? undefined,
        capabilityId: task.capability_id,
      },
      action.policy as PolicyDecision,
      action.audit_event_id,
      {
        id: approval.id,
        approvedBy: (approval.decisions as ApprovalDecision[])
          .filter((decision) => decision.decision === 'approve')
          .map((decision) => decision.userId),
      },
    );
    return outcome;
  }
}
