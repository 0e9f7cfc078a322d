import { actionDefinition, ContractError } from '@heroagent/contracts';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { PolicyDecision } from '../policy/policy-engine.js';
import type { ActionConnectors } from './action-connectors.js';
import { actionEvent, type ActingFor } from './action-events.js';
import type { ActionsRepository } from './actions.repository.js';

/** Releases the sends that are due: each leaves once, with its audit event. */
export class ReleaseDueSends {
  constructor(
    private readonly actions: ActionsRepository,
    private readonly connectors: ActionConnectors,
    private readonly audit: AuditRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(now: Date = this.now()): Promise<number> {
    const due = await this.actions.claimDue(now, 50);
    for (const row of due) {
      const definition = actionDefinition(row.type)!;
      const by: ActingFor = {
        tenantId: row.tenant_id,
        userId: row.user_id,
        taskId: row.task_id,
        connectionId: row.connection_id ?? undefined,
        capabilityId: row.capability_id,
      };
      const decision = row.policy as PolicyDecision;
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
          by.tenantId,
          row.id,
          'executing',
          { status: 'completed', result: row.result, undoState: outcome.result },
          sent,
        );
      } catch (error) {
        const coded = this.connectors.toContractError(error, definition);
        await this.actions.finish(
          by.tenantId,
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
    return due.length;
  }
}
