import { randomUUID } from 'node:crypto';
import {
  actionDefinition,
  ContractError,
  toValidationIssues,
  type CapabilityClaims,
  type RpcRequest,
  type RpcResponse,
  type executeAction,
} from '@heroagent/contracts';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { ApprovalsRepository } from '../approvals/approvals.repository.js';
import type { PolicyEngine } from '../policy/policy-engine.js';
import type { CapabilityGate } from '../tasks/capability-gate.js';
import type { ActionAdmissionRepository } from './action-admission.repository.js';
import { actionEvent, actingFor } from './action-events.js';
import type { ActionsRepository } from './actions.repository.js';
import { exceedsLimits } from './capability-limits.js';
import type { PerformAction } from './perform-action.js';
import { requestHash, type ReplayAction } from './replay-action.js';
import { guardUntrustedInput } from './untrusted-input.js';

type Request = RpcRequest<typeof executeAction>;
type Response = RpcResponse<typeof executeAction>;

/**
 * `gateway.actions.execute` (DESIGN.md): the capability, the catalog, the capability's limits,
 * the tenant's policy; then the request is recorded with the decision, under its task's
 * idempotency key, before anything happens — so a retry returns the first outcome and never acts
 * twice — and an allowed action is performed. What the decision reads is read in one tenant
 * transaction.
 */
export class ExecuteAction {
  constructor(
    private readonly gate: CapabilityGate,
    private readonly admission: ActionAdmissionRepository,
    private readonly actions: ActionsRepository,
    private readonly engine: PolicyEngine,
    private readonly approvals: ApprovalsRepository,
    private readonly audit: AuditRecorder,
    private readonly replay: ReplayAction,
    private readonly perform: PerformAction,
    private readonly approvalPolicy: { ttlMs: number; secondPersonFromMinor: number },
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(request: Request): Promise<Response> {
    const context = { action: request.action };
    const claims = await this.gate.verify(request.capability, context);
    const definition = actionDefinition(request.action);
    const parsed = definition?.params.safeParse(request.params);
    // The amount's currency is counted, so the facts are needed before the reads.
    const early =
      definition !== undefined && parsed?.success === true
        ? definition.facts(parsed.data)
        : undefined;
    const now = this.now();
    const reads = await this.admission.read({
      tenantId: claims.tenantId,
      userId: claims.userId,
      taskId: claims.taskId,
      capabilityId: claims.id,
      idempotencyKey: request.idempotencyKey,
      type: definition?.type ?? request.action,
      currency: early?.amount?.currency,
      now,
    });
    // The checks run in the order they always have: the first that fails answers.
    await this.gate.requireLive(claims, reads.standing, context);
    if (definition === undefined || parsed === undefined) {
      throw new ContractError('ACTION_UNKNOWN', `no such action: ${request.action}`);
    }
    if (!claims.actions.includes(definition.type)) {
      await this.refuse(claims, request, 'ACTION_NOT_ALLOWED', 'the task may not do this action');
    }
    if (!parsed.success) {
      throw new ContractError(
        'INVALID_REQUEST',
        `the parameters of ${definition.type} are not valid`,
        toValidationIssues(parsed.error).map((issue) => ({
          ...issue,
          path: `params.${issue.path}`,
        })),
      );
    }
    // A retry gets the first outcome, before limits that the first attempt itself may have used up.
    if (reads.earlier !== undefined) return this.replay.execute(reads.earlier, request, claims);
    const params: unknown = parsed.data;
    const facts = early ?? definition.facts(parsed.data);
    const { role, counts } = reads;
    if (role === undefined) {
      await this.refuse(claims, request, 'CAPABILITY_REVOKED', 'the person is no longer a member');
    }
    if (definition.provider === 'google' && claims.connectionId === undefined) {
      await this.refuse(claims, request, 'ACTION_NOT_ALLOWED', 'the task has no connected account');
    }
    const overLimit = exceedsLimits(claims, facts, counts);
    if (overLimit !== undefined)
      await this.refuse(claims, request, 'ACTION_NOT_ALLOWED', overLimit);

    const policyDecision = this.engine.decide(
      {
        tenantId: claims.tenantId,
        principal: { userId: claims.userId, role: role! },
        action: definition.type,
        taskId: claims.taskId,
        facts,
        now,
        recentActions: {
          lastHour: counts.lastHour,
          lastDay: counts.lastDay,
          sameActionLastHour: counts.sameActionLastHour,
        },
        spentTodayMinor: counts.spentTodayMinor,
      },
      reads.policyText,
    );
    const decision = guardUntrustedInput(policyDecision, definition, request.untrustedParams);
    const status =
      decision.effect === 'allow'
        ? 'executing'
        : decision.effect === 'deny'
          ? 'denied'
          : 'pending_approval';
    const id = randomUUID();
    const by = actingFor(claims);
    const approvalId = decision.effect === 'require_approval' ? randomUUID() : undefined;
    const approvalExpiresAt = new Date(now.getTime() + this.approvalPolicy.ttlMs);
    const event = actionEvent(this.audit, by, request.rationale, definition, decision, {
      name:
        decision.effect === 'deny'
          ? 'action.denied'
          : decision.effect === 'require_approval'
            ? 'action.approval_requested'
            : 'action.requested',
      outcome: decision.effect === 'deny' ? 'denied' : 'pending',
      actionId: id,
      ...(approvalId === undefined ? {} : { approvalId }),
      untrustedParams: request.untrustedParams,
    });
    const within = Object.assign(
      async (trx: Parameters<typeof event>[0]) => {
        await event(trx);
        if (approvalId !== undefined) {
          await this.approvals.insert(trx, {
            id: approvalId,
            tenantId: claims.tenantId,
            actionId: id,
            userId: claims.userId,
            required:
              facts.amount !== undefined &&
              facts.amount.minor >= this.approvalPolicy.secondPersonFromMinor
                ? 2
                : 1,
            reason: decision.reason,
            expiresAt: approvalExpiresAt,
          });
        }
      },
      { eventId: event.eventId },
    );
    const { created, row } = await this.actions.begin(
      {
        id,
        tenantId: claims.tenantId,
        taskId: claims.taskId,
        userId: claims.userId,
        connectionId: claims.connectionId ?? null,
        capabilityId: claims.id,
        type: definition.type,
        class: definition.class,
        idempotencyKey: request.idempotencyKey,
        requestHash: requestHash(request, claims),
        params,
        rationale: request.rationale,
        status,
        policy: decision,
        ...(facts.amount === undefined ? {} : { amount: facts.amount }),
      },
      within,
    );
    if (!created) return this.replay.execute(row, request, claims);
    this.audit.committed();
    if (decision.effect === 'deny') {
      throw new ContractError('POLICY_DENIED', `${decision.reason} (policy ${decision.policyId})`);
    }
    if (approvalId !== undefined) {
      return {
        status: 'pending_approval',
        actionId: id,
        auditEventId: event.eventId,
        approvalId,
        expiresAt: approvalExpiresAt.toISOString(),
      };
    }
    return this.perform.execute(row, definition, by, decision, event.eventId);
  }

  /** Records a refusal before anything was asked of anyone, then throws it. */
  private async refuse(
    claims: CapabilityClaims,
    request: Request,
    code: 'ACTION_NOT_ALLOWED' | 'CAPABILITY_REVOKED',
    reason: string,
  ): Promise<never> {
    await this.audit.record({
      tenantId: claims.tenantId,
      name: 'action.refused',
      actor: { type: 'agent', id: claims.taskId },
      userId: claims.userId,
      taskId: claims.taskId,
      outcome: 'denied',
      rationale: request.rationale,
      data: { code, reason, requestedAction: request.action, capabilityId: claims.id },
    });
    throw new ContractError(code, reason);
  }
}
