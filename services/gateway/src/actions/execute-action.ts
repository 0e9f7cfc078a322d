import { randomUUID } from 'node:crypto';
import {
  actionDefinition,
  ContractError,
  type ActionDefinition,
  type CapabilityClaims,
  type RpcRequest,
  type RpcResponse,
  type executeAction,
} from '@heroagent/contracts';
import type { Transaction } from '@heroagent/db';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { ApprovalsRepository } from '../approvals/approvals.repository.js';
import { decideAdmission, type Admission } from '../policy/admission.js';
import type { PolicyDecision, PolicyEngine } from '../policy/policy-engine.js';
import { Provenance } from '../policy/provenance.js';
import { declaredByAgent, type UntrustedValue } from '../policy/untrusted-input.js';
import type { GatewayDatabase } from '../store-tables.js';
import type { CapabilityGate } from '../tasks/capability-gate.js';
import type { ActionAdmissionRepository, AdmissionReads } from './action-admission.repository.js';
import { actionEvent, actingFor } from './action-events.js';
import type { ActionRow, ActionsRepository } from './actions.repository.js';
import type { PerformAction } from './perform-action.js';
import type { TaskContentRepository } from './task-content.repository.js';
import { requestKey, type ReplayAction } from './replay-action.js';

type Request = RpcRequest<typeof executeAction>;
type Response = RpcResponse<typeof executeAction>;
type Trx = Transaction<GatewayDatabase>;
type Decided = Extract<Admission, { kind: 'decided' }>;

/** What the admission transaction settled, acted on once it has committed. */
type Settled =
  | { readonly kind: 'refused'; readonly admission: Extract<Admission, { kind: 'refused' }> }
  | { readonly kind: 'retry'; readonly earlier: ActionRow }
  | { readonly kind: 'denied'; readonly decision: PolicyDecision }
  | { readonly kind: 'answered'; readonly response: Response }
  | {
      readonly kind: 'run';
      readonly row: ActionRow;
      readonly admission: Decided;
      readonly requestedEventId: string;
    };

/**
 * `gateway.actions.execute` (DESIGN.md): the capability's signature and expiry, then — in one
 * transaction holding the person's admission lock — the task's standing, the catalog, the
 * parameters, membership, the capability's limits and the tenant's policy over everything the
 * person has under way, and the request recorded with its decision under its task's idempotency
 * key (a retry returns the first outcome and never acts twice). An allowed send is held in the
 * outbox in that same transaction; anything else allowed is then performed.
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
    private readonly content: TaskContentRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(request: Request): Promise<Response> {
    const claims = await this.gate.verify(request.capability, { action: request.action });
    const definition = actionDefinition(request.action);
    const parsed = definition?.params.safeParse(request.params) ?? {
      success: true as const,
      data: undefined,
    };
    // The amount's currency is counted, so the facts are needed before the reads.
    const currency =
      definition !== undefined && parsed.success
        ? definition.facts(parsed.data).amount?.currency
        : undefined;
    const now = this.now();
    const settled = await this.admission.admit(
      {
        tenantId: claims.tenantId,
        userId: claims.userId,
        taskId: claims.taskId,
        capabilityId: claims.id,
        idempotencyKey: request.idempotencyKey,
        type: definition?.type ?? request.action,
        currency,
        now,
      },
      (trx, reads, earlier) =>
        this.settle(trx, request, claims, reads, earlier, parsed, definition, now),
    );
    switch (settled.kind) {
      case 'refused': {
        const { refusal, record } = settled.admission;
        if (record === 'capability') {
          await this.gate.refused(refusal, claims, request.action);
        } else if (record === 'action') {
          await this.gate.refusedAction(refusal, claims, request.action, request.rationale);
        }
        throw refusal;
      }
      case 'retry':
        return this.replay.execute(settled.earlier, request, claims);
      case 'denied':
        this.audit.committed();
        throw new ContractError(
          'POLICY_DENIED',
          `${settled.decision.reason} (policy ${settled.decision.policyId})`,
        );
      case 'answered':
        this.audit.committed();
        return settled.response;
      case 'run':
        this.audit.committed();
        return this.perform.execute(
          settled.row,
          settled.admission.definition,
          actingFor(claims),
          settled.admission.decision,
          settled.requestedEventId,
        );
    }
  }

  /** Inside the admission transaction: decide, and write what was decided. */
  private async settle(
    trx: Trx,
    request: Request,
    claims: CapabilityClaims,
    reads: AdmissionReads,
    earlier: ActionRow | undefined,
    parsed: Parameters<typeof decideAdmission>[0]['params'],
    definition: ReturnType<typeof actionDefinition>,
    now: Date,
  ): Promise<Settled> {
    const decide = (untrusted: readonly UntrustedValue[]) =>
      decideAdmission(
        {
          tenantId: claims.tenantId,
          userId: claims.userId,
          taskId: claims.taskId,
          grant: claims,
          type: request.action,
          definition,
          params: parsed,
          standing: reads.standing,
          role: reads.role,
          counts: reads.counts,
          policyText: reads.policyText,
          retry: earlier !== undefined,
          untrusted,
          now,
        },
        this.engine,
      );
    let untrusted: readonly UntrustedValue[] = declaredByAgent(request.untrustedParams);
    let admission = decide(untrusted);
    // A write that would be recorded: what in it did not come from the person, found only now
    // (a refusal costs nothing more), from what the task's reads returned.
    if (admission.kind === 'decided' && admission.definition.class !== 'read') {
      const found = await this.untrustedOf(trx, claims, admission.definition, admission.params);
      if (found.length > 0) {
        const named = new Set(found.map((value) => value.param));
        untrusted = [...found, ...untrusted.filter((value) => !named.has(value.param))];
        admission = decide(untrusted);
      }
    }
    if (admission.kind === 'retry') return { kind: 'retry', earlier: earlier! };
    if (admission.kind === 'refused') return { kind: 'refused', admission };
    const { decision, facts } = admission;
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
    const event = actionEvent(this.audit, by, request.rationale, admission.definition, decision, {
      name:
        decision.effect === 'deny'
          ? 'action.denied'
          : decision.effect === 'require_approval'
            ? 'action.approval_requested'
            : 'action.requested',
      outcome: decision.effect === 'deny' ? 'denied' : 'pending',
      actionId: id,
      ...(approvalId === undefined ? {} : { approvalId }),
      untrustedParams: untrusted.map((value) => value.param),
    });
    const row = await this.actions.insert(
      trx,
      {
        id,
        tenantId: claims.tenantId,
        taskId: claims.taskId,
        userId: claims.userId,
        connectionId: claims.connectionId ?? null,
        capabilityId: claims.id,
        type: admission.definition.type,
        class: admission.definition.class,
        idempotencyKey: request.idempotencyKey,
        requestKey: requestKey(request, claims),
        params: admission.params,
        rationale: request.rationale,
        status,
        policy: decision,
        untrusted,
        auditEventId: event.eventId,
        ...(facts.amount === undefined ? {} : { amount: facts.amount }),
      },
      event,
    );
    if (decision.effect === 'deny') return { kind: 'denied', decision };
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
      return {
        kind: 'answered',
        response: {
          status: 'pending_approval',
          actionId: id,
          auditEventId: event.eventId,
          approvalId,
          expiresAt: approvalExpiresAt.toISOString(),
        },
      };
    }
    if (admission.definition.undo.kind === 'cancel-before-release') {
      const response = await this.perform.hold(
        trx,
        row,
        'executing',
        admission.definition,
        by,
        decision,
        event.eventId,
      );
      return { kind: 'answered', response };
    }
    return { kind: 'run', row, admission, requestedEventId: event.eventId };
  }

  /**
   * The gateway's own finding of what in a write did not come from the person (see
   * policy/provenance.ts); the client's declaration is added to it, never taken from it.
   */
  private async untrustedOf(
    trx: Trx,
    claims: CapabilityClaims,
    definition: ActionDefinition,
    params: unknown,
  ): Promise<UntrustedValue[]> {
    const content = await this.content.read(trx, claims.taskId);
    if (content?.request == null) return [];
    return new Provenance({ ...content, request: content.request }).untrusted(
      definition,
      params as Record<string, unknown>,
    );
  }
}
