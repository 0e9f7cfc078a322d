import {
  ContractError,
  type ActionDefinition,
  type RpcResponse,
  type executeAction,
} from '@heroagent/contracts';
import type { JsonValue } from '@heroagent/crypto';
import type { Transaction } from '@heroagent/db';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { PolicyDecision } from '../policy/policy-engine.js';
import type { ActionConnectors } from './action-connectors.js';
import { actionEvent, type ActingFor, type ApprovalOfAction } from './action-events.js';
import type { ActionRow, ActionsRepository } from './actions.repository.js';
import type { ActionStatus, GatewayDatabase } from '../store-tables.js';

type Completed = Extract<RpcResponse<typeof executeAction>, { status: 'completed' }>;

/**
 * An allowed action (at once, or after its approval): a send is held in the outbox for the undo
 * window, in the transaction that admitted it; anything else calls the provider with a token from
 * vault-proxy used in memory for one call, and records the outcome with its audit event in one
 * transaction.
 */
export class PerformAction {
  constructor(
    private readonly actions: ActionsRepository,
    private readonly connectors: ActionConnectors,
    private readonly audit: AuditRecorder,
    private readonly sendWindowMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Calls the provider for an action its admission moved to `executing`. */
  async execute(
    row: ActionRow,
    definition: ActionDefinition,
    by: ActingFor,
    decision: PolicyDecision,
    requestedEventId: string,
    approval?: ApprovalOfAction,
  ): Promise<Completed> {
    const connector = this.connectors.connectorFor(definition.type);
    try {
      if (connector === undefined) {
        throw new ContractError('ACTION_UNKNOWN', `${definition.type} has no connector yet`);
      }
      const token =
        definition.provider === 'google' ? await this.connectors.tokenFor(definition, by) : '';
      const outcome = await connector.execute({
        actionId: row.id,
        type: definition.type,
        params: row.params,
        accessToken: token,
      });
      // As JSON: what the agent receives and what is stored are the same (no undefined fields).
      const result = JSON.parse(
        JSON.stringify(definition.result.parse(outcome.result)),
      ) as JsonValue;
      const done = actionEvent(this.audit, by, row.rationale, definition, decision, {
        name: 'action.executed',
        outcome: 'success',
        actionId: row.id,
        related: requestedEventId,
        ...(approval === undefined ? {} : { approval }),
      });
      await this.actions.finish(
        by,
        row.id,
        'executing',
        { status: 'completed', result, undoState: outcome.undoState },
        done,
      );
      this.audit.committed();
      return {
        status: 'completed',
        actionId: row.id,
        auditEventId: done.eventId,
        result,
        undo: { available: definition.undo.kind === 'compensate' },
      };
    } catch (error) {
      const coded = this.connectors.toContractError(error, definition);
      const failed = actionEvent(this.audit, by, row.rationale, definition, decision, {
        name: 'action.failed',
        outcome: 'failure',
        actionId: row.id,
        related: requestedEventId,
        ...(approval === undefined ? {} : { approval }),
        error: { code: coded.code, message: coded.message },
      });
      await this.actions.finish(
        by,
        row.id,
        'executing',
        { status: 'failed', error: coded.toBody() },
        failed,
      );
      this.audit.committed();
      throw coded;
    }
  }

  /**
   * Holds a send in the outbox for the undo window, in the caller's transaction (which moves it
   * from `from`): the agent gets its outbox id and when it leaves; until then a person can cancel
   * it. The sender releases it when due, after checking again that it may go. The caller calls
   * `audit.committed()` once its transaction has committed.
   */
  async hold(
    trx: Transaction<GatewayDatabase>,
    row: ActionRow,
    from: ActionStatus,
    definition: ActionDefinition,
    by: ActingFor,
    decision: PolicyDecision,
    requestedEventId: string,
    approval?: ApprovalOfAction,
  ): Promise<Completed> {
    const now = this.now();
    const sendsAt = new Date(now.getTime() + this.sendWindowMs);
    const result = { outboxId: row.id, sendsAt: sendsAt.toISOString() };
    const held = actionEvent(this.audit, by, row.rationale, definition, decision, {
      name: 'action.scheduled',
      outcome: 'pending',
      actionId: row.id,
      related: requestedEventId,
      ...(approval === undefined ? {} : { approval }),
    });
    const moved = await this.actions.hold(trx, row, from, {
      releaseAt: sendsAt,
      result,
      eventId: held.eventId,
      now,
    });
    if (!moved) throw new ContractError('CONFLICT', `the action is no longer ${from}`);
    await held(trx);
    return {
      status: 'completed',
      actionId: row.id,
      auditEventId: held.eventId,
      result,
      undo: { available: true, until: result.sendsAt },
    };
  }
}
