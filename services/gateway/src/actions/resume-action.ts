import {
  actionDefinition,
  type ContractError,
  type ActionDefinition,
  type RpcResponse,
  type executeAction,
} from '@heroagent/contracts';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { decideAdmission, decideResumption } from '../policy/admission.js';
import type { PolicyDecision, PolicyEngine } from '../policy/policy-engine.js';
import { untrustedValuesOf } from '../policy/untrusted-input.js';
import type { ActionAdmissionRepository } from './action-admission.repository.js';
import { cancelledEvent, type ActingFor, type ApprovalOfAction } from './action-events.js';
import type { ActionRow, ActionsRepository } from './actions.repository.js';
import type { PerformAction } from './perform-action.js';

type Completed = Extract<RpcResponse<typeof executeAction>, { status: 'completed' }>;

/** What became of a held action asked to go on. */
export type Resumed =
  /** It was not (or no longer) where the caller expected: someone else moved it, or it is gone. */
  | { readonly kind: 'moved'; readonly row: ActionRow | undefined }
  /** It may no longer go: cancelled, recorded, with the refusal's code. */
  | { readonly kind: 'cancelled'; readonly refusal: ContractError }
  /** An approved send, now held in the outbox for its window. */
  | { readonly kind: 'held'; readonly response: Completed }
  /** Now `executing`: the caller performs it. */
  | {
      readonly kind: 'run';
      readonly row: ActionRow;
      readonly definition: ActionDefinition;
      readonly by: ActingFor;
      readonly decision: PolicyDecision;
    };

/**
 * A held action going on — an approved one about to run, a send whose window has passed — is
 * admitted again first, in one transaction under its person's admission lock: its task still
 * running and unexpired, its tenant's agents not paused, its person still a member, the limits
 * and the tenant's policy over everything else under way (the action itself not counted), its
 * approval standing in for one a policy asks for. What no longer holds is cancelled, recorded.
 * The same decision as the one that admitted it (policy/admission.ts), nothing repeated.
 */
export class ResumeAction {
  constructor(
    private readonly admission: ActionAdmissionRepository,
    private readonly actions: ActionsRepository,
    private readonly engine: PolicyEngine,
    private readonly perform: PerformAction,
    private readonly audit: AuditRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(
    held: { readonly tenantId: string; readonly userId: string; readonly actionId: string },
    from: 'approved' | 'scheduled',
    approval?: ApprovalOfAction,
    now: Date = this.now(),
  ): Promise<Resumed> {
    const resumed = await this.admission.resume(
      held,
      now,
      async (trx, current): Promise<Resumed> => {
        const row = current?.row;
        const due = from !== 'scheduled' || (row?.release_at != null && row.release_at <= now);
        if (current === undefined || row === undefined || row.status !== from || !due) {
          return { kind: 'moved', row };
        }
        const { reads } = current;
        const definition = actionDefinition(row.type);
        const admission = decideAdmission(
          {
            tenantId: row.tenant_id,
            userId: row.user_id,
            taskId: row.task_id,
            grant: reads.grant ?? { actions: [], limits: {} },
            type: row.type,
            definition,
            params: definition?.params.safeParse(row.params) ?? { success: true, data: undefined },
            standing: reads.standing,
            role: reads.role,
            counts: reads.counts,
            policyText: reads.policyText,
            retry: false,
            untrusted: untrustedValuesOf(row.untrusted),
            now,
          },
          this.engine,
        );
        const resumption = decideResumption(admission, approval !== undefined || current.approved);
        if (!resumption.proceed) {
          const error = { code: resumption.refusal.code, message: resumption.refusal.message };
          const event = cancelledEvent(this.audit, row, { type: 'service', id: 'gateway' }, error);
          await this.actions.move(trx, row, from, 'cancelled', {
            eventId: event.eventId,
            error,
            now,
          });
          await event(trx);
          return { kind: 'cancelled', refusal: resumption.refusal };
        }
        const by: ActingFor = {
          tenantId: row.tenant_id,
          userId: row.user_id,
          taskId: row.task_id,
          connectionId: row.connection_id ?? undefined,
          capabilityId: row.capability_id,
        };
        // Only a catalog action with valid parameters is admitted, so the definition is known here.
        const known = definition!;
        if (from === 'approved' && known.undo.kind === 'cancel-before-release') {
          const response = await this.perform.hold(
            trx,
            row,
            'approved',
            known,
            by,
            resumption.decision,
            row.audit_event_id,
            approval,
          );
          return { kind: 'held', response };
        }
        await this.actions.move(trx, row, from, 'executing', { now });
        return {
          kind: 'run',
          row: { ...row, status: 'executing' },
          definition: known,
          by,
          decision: resumption.decision,
        };
      },
    );
    if (resumed.kind === 'cancelled' || resumed.kind === 'held') this.audit.committed();
    return resumed;
  }
}
