import { actionDefinition, ContractError, type UndoStrategy } from '@heroagent/contracts';
import type { JsonValue } from '@heroagent/crypto';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { PerformAction } from '../actions/perform-action.js';
import type { ResumeAction } from '../actions/resume-action.js';
import type { ActionsRepository } from '../actions/actions.repository.js';
import { managesTenant, overseesTenant } from '../http/route.js';
import type { ResolvedSession } from '../sessions/sessions.repository.js';
import type { PolicyDecision } from '../policy/policy-engine.js';
import { untrustedValuesOf } from '../policy/untrusted-input.js';
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
    untrusted: untrustedValuesOf(row.untrusted),
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
 * or two people approving at once, never runs it twice — and only if it would still be admitted
 * (see ResumeAction): a stop, a pause or a lost membership meanwhile cancels it.
 */
export class ApprovalsService {
  constructor(
    private readonly approvals: ApprovalsRepository,
    private readonly actions: ActionsRepository,
    private readonly resume: ResumeAction,
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
      session.userId,
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
            },
            // The approver's own words, sealed with their key: erased with them.
            ...(note === '' ? {} : { personal: { note }, personalOf: session.userId }),
          }),
        };
      },
      now,
    );
    if (updated === undefined) throw new ContractError('NOT_FOUND', 'no such approval');
    this.audit.committed();
    return updated;
  }

  /**
   * Runs an approved action once, if it would still be admitted now: its task running and
   * unexpired, its tenant not paused, its person a member, within the limits and the policy.
   * Otherwise it is cancelled, recorded, and the approver told why.
   */
  private async run(approval: ApprovalRow): Promise<JsonValue> {
    const given = {
      id: approval.id,
      approvedBy: (approval.decisions as ApprovalDecision[])
        .filter((decision) => decision.decision === 'approve')
        .map((decision) => decision.userId),
    };
    const resumed = await this.resume.execute(
      { tenantId: approval.tenant_id, userId: approval.user_id, actionId: approval.action_id },
      'approved',
      given,
    );
    switch (resumed.kind) {
      case 'moved':
        // Someone else ran it (or it is gone): where it stands now.
        if (resumed.row === undefined) throw new ContractError('NOT_FOUND', 'no such action');
        return { status: resumed.row.status, result: (resumed.row.result ?? null) as JsonValue };
      case 'cancelled':
        throw new ContractError(
          resumed.refusal.code,
          `${resumed.refusal.message}: the action will not run`,
        );
      case 'held':
        return resumed.response;
      case 'run':
        return this.performAction.execute(
          resumed.row,
          resumed.definition,
          resumed.by,
          resumed.decision,
          resumed.row.audit_event_id,
          given,
        );
    }
  }
}
