import { ContractError } from '@heroagent/contracts';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { ActionConnectors } from './action-connectors.js';
import { actionEvent } from './action-events.js';
import type { ActionSweepsRepository } from './action-sweeps.repository.js';
import type { ActionsRepository } from './actions.repository.js';
import type { ResumeAction } from './resume-action.js';

/**
 * Releases the sends that are due: each is admitted again first (its task, the pause, the
 * person's membership, the limits and the policy; what no longer holds is cancelled, recorded),
 * then leaves once, with its audit event, however many senders run.
 */
export class ReleaseDueSends {
  constructor(
    private readonly actions: ActionsRepository,
    private readonly sweeps: ActionSweepsRepository,
    private readonly resume: ResumeAction,
    private readonly connectors: ActionConnectors,
    private readonly audit: AuditRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(now: Date = this.now()): Promise<number> {
    const due = await this.sweeps.dueSends(now, 50);
    let released = 0;
    for (const send of due) {
      const resumed = await this.resume.execute(
        { tenantId: send.tenant_id, userId: send.user_id, actionId: send.id },
        'scheduled',
        undefined,
        now,
      );
      if (resumed.kind !== 'run') continue;
      const { row, definition, by, decision } = resumed;
      try {
        const connector = this.connectors.connectorFor(row.type);
        if (connector === undefined) throw new ContractError('UPSTREAM_FAILED', 'no connector');
        const token = await this.connectors.tokenFor(definition, by);
        const outcome = await connector.execute({
          actionId: row.id,
          type: row.type,
          params: row.params,
          accessToken: token,
        });
        const sent = actionEvent(this.audit, by, row.rationale, definition, decision, {
          name: 'action.executed',
          outcome: 'success',
          actionId: row.id,
          related: row.audit_event_id,
        });
        await this.actions.finish(
          by,
          row.id,
          'executing',
          { status: 'completed', result: row.result, undoState: outcome.result },
          sent,
        );
        released += 1;
      } catch (error) {
        const coded = this.connectors.toContractError(error, definition);
        await this.actions.finish(
          by,
          row.id,
          'executing',
          { status: 'failed', result: row.result, error: coded.toBody() },
          actionEvent(this.audit, by, row.rationale, definition, decision, {
            name: 'action.failed',
            outcome: 'failure',
            actionId: row.id,
            related: row.audit_event_id,
            error: { code: coded.code, message: coded.message },
          }),
        );
      }
      this.audit.committed();
    }
    return released;
  }
}
