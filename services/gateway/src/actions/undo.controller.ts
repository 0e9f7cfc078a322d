import { randomUUID } from 'node:crypto';
import { Controller, Inject } from '@nestjs/common';
import {
  actionDefinition,
  ContractError,
  undoAction,
  type RouteResponse,
} from '@heroagent/contracts';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { EdgeOf, inTenant, Route, type Edge, managesTenant } from '../http/route.js';
import { TasksRepository } from '../tasks/tasks.repository.js';
import { ActionConnectors } from './action-connectors.js';
import { ActionsRepository, type ActionRow } from './actions.repository.js';

const UNDO_POLICY = {
  effect: 'allow',
  policyId: 'person-asked-undo',
  reason: 'A person asked to undo it.',
} as const;

/**
 * Undo: the compensating call runs through the same path as the action — a token from
 * vault-proxy for the same connection and scopes, the provider's API, and an audit event that
 * names the action it undoes — from the state kept when the action ran. An action that cannot be
 * undone says so. An undo is itself recorded once, so a repeated request never undoes twice.
 */
@Controller()
export class UndoController {
  constructor(
    @Inject(ActionsRepository) private readonly actions: ActionsRepository,
    @Inject(TasksRepository) private readonly tasks: TasksRepository,
    @Inject(ActionConnectors) private readonly connectors: ActionConnectors,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
  ) {}

  @Route(undoAction)
  async undo(@EdgeOf() edge: Edge<typeof undoAction>): Promise<RouteResponse<typeof undoAction>> {
    const session = inTenant(edge);
    const tenantId = session.tenant.id;
    const original = await this.actions.get(tenantId, edge.input.params.id);
    const manager = managesTenant(session);
    if (original === undefined || (original.user_id !== session.userId && !manager)) {
      throw new ContractError('NOT_FOUND', 'no such action');
    }
    const definition = actionDefinition(original.type);
    if (definition?.undo.kind === 'cancel-before-release') {
      return this.cancel(session.userId, original);
    }
    if (definition === undefined || definition.undo.kind !== 'compensate') {
      const why = definition?.undo.kind === 'none' ? definition.undo.reason : 'unknown action';
      throw new ContractError('CONFLICT', `this action cannot be undone: ${why}`);
    }
    if (original.status !== 'completed') {
      throw new ContractError(
        'CONFLICT',
        `the action is ${original.status}, so there is nothing to undo`,
      );
    }
    const task = await this.tasks.get(tenantId, original.task_id);
    if (task === undefined) throw new ContractError('NOT_FOUND', 'no such action');
    const by = {
      tenantId,
      userId: original.user_id,
      taskId: task.id,
      connectionId: original.connection_id ?? undefined,
      capabilityId: task.capability_id,
    };
    const undoId = randomUUID();
    const event = (name: string, outcome: 'pending' | 'success' | 'failure', extra = {}) =>
      this.audit.within({
        tenantId,
        name,
        actor: { type: 'user', id: session.userId },
        userId: original.user_id,
        taskId: task.id,
        action: original.type,
        outcome,
        policy: UNDO_POLICY,
        relatedEventId: original.audit_event_id,
        data: { actionId: original.id, undoActionId: undoId, ...extra },
      });
    const { created } = await this.actions.begin(
      {
        id: undoId,
        tenantId,
        taskId: task.id,
        userId: original.user_id,
        connectionId: original.connection_id,
        capabilityId: original.capability_id,
        type: original.type,
        class: original.class,
        idempotencyKey: `undo:${original.id}`,
        requestKey: `undo:${original.id}`,
        params: { undoes: original.id },
        rationale: `Undo requested by ${session.userId}.`,
        status: 'executing',
        policy: UNDO_POLICY,
        undoes: original.id,
      },
      event('action.undo_requested', 'pending'),
    );
    if (!created) {
      throw new ContractError('CONFLICT', 'this action is already being undone, or was');
    }
    this.audit.committed();
    const connector = this.connectors.connectorFor(original.type);
    try {
      if (connector === undefined) throw new ContractError('UPSTREAM_FAILED', 'no connector');
      const token = await this.connectors.tokenFor(definition, by);
      await connector.undo({
        type: original.type,
        undoState: original.undo_state,
        accessToken: token,
      });
    } catch (error) {
      const coded = this.connectors.toContractError(error, definition);
      await this.actions.finish(
        { tenantId, userId: original.user_id },
        undoId,
        'executing',
        { status: 'failed', error: coded.toBody() },
        event('action.undo_failed', 'failure', { error: coded.toBody() }),
      );
      this.audit.committed();
      throw coded;
    }
    await this.actions.completeUndo(
      tenantId,
      undoId,
      original.id,
      event('action.undone', 'success'),
    );
    this.audit.committed();
    return { actionId: original.id, undoActionId: undoId, status: 'undone' };
  }

  /** A send still in the outbox is cancelled: it never leaves. Once it has left, it cannot be. */
  private async cancel(by: string, original: ActionRow): Promise<RouteResponse<typeof undoAction>> {
    const cancelled = await this.actions.cancelScheduled(
      original.tenant_id,
      original.id,
      this.audit.within({
        tenantId: original.tenant_id,
        name: 'action.cancelled',
        actor: { type: 'user', id: by },
        userId: original.user_id,
        taskId: original.task_id,
        action: original.type,
        outcome: 'success',
        policy: UNDO_POLICY,
        relatedEventId: original.audit_event_id,
        data: { actionId: original.id, reason: 'cancelled in the undo window, before it was sent' },
      }),
    );
    if (!cancelled) {
      throw new ContractError(
        'CONFLICT',
        original.status === 'cancelled'
          ? 'it was already cancelled'
          : 'it has already been sent, and a sent message cannot be unsent',
      );
    }
    this.audit.committed();
    return { actionId: original.id, undoActionId: original.id, status: 'undone' };
  }
}
