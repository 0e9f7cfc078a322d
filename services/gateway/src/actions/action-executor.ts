import { createHash, randomUUID } from 'node:crypto';
import {
  actionDefinition,
  ContractError,
  toValidationIssues,
  type ActionDefinition,
  type ActionFacts,
  type CapabilityClaims,
  type RpcRequest,
  type RpcResponse,
  type executeAction,
  getAction,
} from '@heroagent/contracts';
import { canonicalJson, type JsonValue } from '@heroagent/crypto';
import type { Logger } from '@heroagent/telemetry';
import type { AuditRecord, AuditRecorder } from '../audit/audit-recorder.js';
import type { VaultProxyClient } from '../connections/vault-proxy.client.js';
import type { PeopleRepository } from '../people/people.repository.js';
import type { PoliciesRepository } from '../policy/policies.repository.js';
import type { PolicyDecision, PolicyEngine } from '../policy/policy-engine.js';
import type { CapabilityGate } from '../tasks/capability-gate.js';
import type { ApprovalsRepository } from '../approvals/approvals.repository.js';
import type { ActionRow, ActionsRepository } from './actions.repository.js';
import { ConnectorError, type Connector } from './connector.js';
import { guardUntrustedInput } from './untrusted-input.js';

type Request = RpcRequest<typeof executeAction>;
type Response = RpcResponse<typeof executeAction>;

/** On whose behalf, under which task and capability, an action runs. */
export interface ActingFor {
  readonly tenantId: string;
  readonly userId: string;
  readonly taskId: string;
  readonly connectionId: string | undefined;
  readonly capabilityId: string;
}

function actingFor(claims: CapabilityClaims): ActingFor {
  return {
    tenantId: claims.tenantId,
    userId: claims.userId,
    taskId: claims.taskId,
    connectionId: claims.connectionId,
    capabilityId: claims.id,
  };
}

/** An action still `executing` after this long was left by a process that died. */
const STALE_AFTER_MS = 10 * 60_000;

/** How long a retry waits for the first attempt of the same request to finish. */
const RETRY_WAIT_MS = 10_000;

/**
 * The path of one action (DESIGN.md): the capability, the catalog, the capability's limits, the
 * tenant's policy, then — when allowed — a token from vault-proxy used in memory for one call,
 * the connector, and the outcome recorded with its audit event in one transaction. A request is
 * recorded before anything happens, under its task's idempotency key, so a retry returns the
 * first outcome and never acts twice.
 */
export class ActionExecutor {
  constructor(
    private readonly gate: CapabilityGate,
    private readonly actions: ActionsRepository,
    private readonly policies: PoliciesRepository,
    private readonly engine: PolicyEngine,
    private readonly people: PeopleRepository,
    private readonly vault: VaultProxyClient,
    private readonly connectors: readonly Connector[],
    private readonly audit: AuditRecorder,
    private readonly approvals: ApprovalsRepository,
    private readonly approvalPolicy: { ttlMs: number; secondPersonFromMinor: number },
    private readonly sendWindowMs: number,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(request: Request): Promise<Response> {
    const claims = await this.gate.admit(request.capability, { action: request.action });
    const definition = actionDefinition(request.action);
    if (definition === undefined) {
      throw new ContractError('ACTION_UNKNOWN', `no such action: ${request.action}`);
    }
    if (!claims.actions.includes(definition.type)) {
      await this.refuse(claims, request, 'ACTION_NOT_ALLOWED', 'the task may not do this action');
    }
    const parsed = definition.params.safeParse(request.params);
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
    const earlier = await this.actions.byKey(
      claims.tenantId,
      claims.taskId,
      request.idempotencyKey,
    );
    if (earlier !== undefined) return this.replay(earlier, request, claims);
    const params: unknown = parsed.data;
    const facts = definition.facts(parsed.data);
    const role = await this.people.roleOf(claims.tenantId, claims.userId);
    if (role === undefined) {
      await this.refuse(claims, request, 'CAPABILITY_REVOKED', 'the person is no longer a member');
    }
    if (definition.provider === 'google' && claims.connectionId === undefined) {
      await this.refuse(claims, request, 'ACTION_NOT_ALLOWED', 'the task has no connected account');
    }
    const now = this.now();
    const counts = await this.actions.counts(
      claims.tenantId,
      claims.userId,
      claims.taskId,
      definition.type,
      facts.amount?.currency,
      now,
    );
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
      (await this.policies.current(claims.tenantId))?.text ?? '',
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
    const event = this.record(by, request.rationale, definition, decision, {
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
    if (!created) return this.replay(row, request, claims);
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
    return this.perform(row, definition, by, decision, event.eventId);
  }

  /**
   * A send is held in the outbox for the undo window: the agent gets its outbox id and when it
   * leaves; until then a person can cancel it. The sender releases it when due.
   */
  private async hold(
    row: ActionRow,
    definition: ActionDefinition,
    by: ActingFor,
    decision: PolicyDecision,
    requestedEventId: string,
    approval?: { readonly id: string; readonly approvedBy: readonly string[] },
  ): Promise<Extract<Response, { status: 'completed' }>> {
    const sendsAt = new Date(this.now().getTime() + this.sendWindowMs);
    const result = { outboxId: row.id, sendsAt: sendsAt.toISOString() };
    const held = this.record(by, row.rationale, definition, decision, {
      name: 'action.scheduled',
      outcome: 'pending',
      actionId: row.id,
      related: requestedEventId,
      ...(approval === undefined ? {} : { approval }),
    });
    await this.actions.schedule(by.tenantId, row.id, sendsAt, result, held);
    this.audit.committed();
    return {
      status: 'completed',
      actionId: row.id,
      auditEventId: held.eventId,
      result,
      undo: { available: true, until: result.sendsAt },
    };
  }

  /** Releases the sends that are due: each leaves once, with its audit event. */
  async releaseDue(now: Date = this.now()): Promise<number> {
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
        const connector = this.connectorFor(row.type);
        if (connector === undefined) throw new ContractError('UPSTREAM_FAILED', 'no connector');
        const token = await this.tokenFor(definition, by);
        const outcome = await connector.execute({
          actionId: row.id,
          type: row.type,
          params: row.params,
          accessToken: token,
        });
        const sent = this.record(by, row.rationale, definition, decision, {
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
        const coded = this.toContractError(error, definition);
        await this.actions.finish(
          by.tenantId,
          row.id,
          'executing',
          { status: 'failed', result: row.result, error: coded.toBody() },
          this.record(by, row.rationale, definition, decision, {
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

  /**
   * Marks actions a crash left running (for longer than any call may take) as failed with an
   * unknown outcome, recorded, so none stays `executing` forever and a person can look.
   */
  async failStale(now: Date = this.now()): Promise<number> {
    const stale = await this.actions.failStale(
      new Date(now.getTime() - STALE_AFTER_MS),
      now,
      (row) =>
        this.audit.within({
          tenantId: row.tenant_id,
          name: 'action.outcome_unknown',
          actor: { type: 'service', id: 'gateway' },
          userId: row.user_id,
          taskId: row.task_id,
          action: row.type,
          outcome: 'failure',
          rationale: row.rationale,
          relatedEventId: row.audit_event_id,
          data: { actionId: row.id, reason: 'the gateway stopped while it was running' },
        }),
    );
    if (stale.length > 0) this.audit.committed();
    return stale.length;
  }

  /** Where one of the task's actions stands (the agent asks after an approval). */
  async status(request: RpcRequest<typeof getAction>): Promise<RpcResponse<typeof getAction>> {
    const claims = await this.gate.admit(request.capability, { action: getAction.subject });
    const row = await this.actions.get(claims.tenantId, request.actionId);
    if (row === undefined || row.task_id !== claims.taskId) {
      throw new ContractError('NOT_FOUND', 'the task has no such action');
    }
    const approval = await this.approvals.forAction(claims.tenantId, row.id);
    const stored = row.error as { code?: unknown; message?: unknown } | null;
    const error =
      stored === null
        ? null
        : {
            code: typeof stored.code === 'string' ? stored.code : 'UPSTREAM_FAILED',
            message: typeof stored.message === 'string' ? stored.message : '',
          };
    return {
      actionId: row.id,
      action: row.type,
      status: row.status,
      ...(row.result === null ? {} : { result: row.result as JsonValue }),
      ...(error === null ? {} : { error }),
      ...(approval === undefined
        ? {}
        : {
            approval: {
              id: approval.id,
              status: approval.status,
              expiresAt: approval.expires_at.toISOString(),
            },
          }),
    };
  }

  /** Calls the provider for an allowed action and records its outcome. */
  async perform(
    row: ActionRow,
    definition: ActionDefinition,
    by: ActingFor,
    decision: PolicyDecision,
    requestedEventId: string,
    approval?: { readonly id: string; readonly approvedBy: readonly string[] },
  ): Promise<Extract<Response, { status: 'completed' }>> {
    if (definition.undo.kind === 'cancel-before-release') {
      return this.hold(row, definition, by, decision, requestedEventId, approval);
    }
    const connector = this.connectors.find((candidate) => candidate.handles(definition.type));
    try {
      if (connector === undefined) {
        throw new ContractError('ACTION_UNKNOWN', `${definition.type} has no connector yet`);
      }
      const token = definition.provider === 'google' ? await this.tokenFor(definition, by) : '';
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
      const done = this.record(by, row.rationale, definition, decision, {
        name: 'action.executed',
        outcome: 'success',
        actionId: row.id,
        related: requestedEventId,
        ...(approval === undefined ? {} : { approval }),
      });
      await this.actions.finish(
        by.tenantId,
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
      const coded = this.toContractError(error, definition);
      const failed = this.record(by, row.rationale, definition, decision, {
        name: 'action.failed',
        outcome: 'failure',
        actionId: row.id,
        related: requestedEventId,
        ...(approval === undefined ? {} : { approval }),
        error: { code: coded.code, message: coded.message },
      });
      await this.actions.finish(
        by.tenantId,
        row.id,
        'executing',
        { status: 'failed', error: coded.toBody() },
        failed,
      );
      this.audit.committed();
      throw coded;
    }
  }

  /** A token for the first of the action's scopes the connection was granted. */
  async tokenFor(definition: ActionDefinition, by: ActingFor): Promise<string> {
    let last: ContractError | undefined;
    for (const scope of definition.scopes) {
      try {
        const { token } = await this.vault.accessToken({
          tenantId: by.tenantId,
          userId: by.userId,
          connectionId: by.connectionId!,
          scopes: [scope],
        });
        return token;
      } catch (error) {
        if (error instanceof ContractError && error.code === 'SCOPE_NOT_GRANTED') {
          last = error;
          continue;
        }
        throw error;
      }
    }
    throw last ?? new ContractError('SCOPE_NOT_GRANTED', 'the connection lacks the scope needed');
  }

  /** The first outcome of a repeated request (same task and idempotency key). */
  private async replay(
    row: ActionRow,
    request: Request,
    claims: CapabilityClaims,
  ): Promise<Response> {
    if (!row.request_hash.equals(requestHash(request, claims))) {
      throw new ContractError(
        'IDEMPOTENCY_CONFLICT',
        'this idempotency key was used for a different request in this task',
      );
    }
    const deadline = Date.now() + RETRY_WAIT_MS;
    let current = row;
    while (current.status === 'executing' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      current = (await this.actions.get(claims.tenantId, row.id)) ?? current;
    }
    switch (current.status) {
      case 'completed':
        return {
          status: 'completed',
          actionId: current.id,
          auditEventId: current.audit_event_id,
          result: current.result as JsonValue,
          undo: { available: actionDefinition(current.type)?.undo.kind === 'compensate' },
        };
      case 'pending_approval': {
        const approval = await this.approvals.forAction(claims.tenantId, current.id);
        if (approval === undefined) throw new ContractError('INTERNAL', 'the approval is missing');
        return {
          status: 'pending_approval',
          actionId: current.id,
          auditEventId: current.audit_event_id,
          approvalId: approval.id,
          expiresAt: approval.expires_at.toISOString(),
        };
      }
      case 'denied': {
        const policy = current.policy as PolicyDecision;
        throw new ContractError('POLICY_DENIED', `${policy.reason} (policy ${policy.policyId})`);
      }
      case 'failed': {
        const error = current.error as { code?: string; message?: string } | null;
        throw new ContractError('UPSTREAM_FAILED', error?.message ?? 'the action failed');
      }
      case 'executing':
        throw new ContractError('TIMEOUT', 'the first attempt of this request is still running');
      default:
        throw new ContractError('ACTION_NOT_ALLOWED', `the action is ${current.status}`);
    }
  }

  private record(
    by: ActingFor,
    rationale: string,
    definition: ActionDefinition,
    decision: PolicyDecision,
    what: {
      name: string;
      outcome: AuditRecord['outcome'];
      actionId: string;
      related?: string;
      approvalId?: string;
      /** The approval it ran after, and who approved: part of the explanation. */
      approval?: { readonly id: string; readonly approvedBy: readonly string[] };
      error?: { code: string; message: string };
      /** Parameters the agent took from content it read (on the request's event). */
      untrustedParams?: readonly string[];
    },
  ) {
    return this.audit.within({
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
        ...(what.error === undefined ? {} : { error: what.error }),
        ...(what.untrustedParams === undefined
          ? {}
          : { untrustedParams: [...what.untrustedParams] }),
      },
    });
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

  /** The connector for an action type, if any. */
  connectorFor(type: string): Connector | undefined {
    return this.connectors.find((candidate) => candidate.handles(type));
  }

  toContractError(error: unknown, definition: ActionDefinition): ContractError {
    if (error instanceof ContractError) return error;
    if (error instanceof ConnectorError) {
      switch (error.failure) {
        case 'not_found':
          return new ContractError('UPSTREAM_FAILED', `${definition.type}: ${error.message}`);
        case 'unauthorized':
          return new ContractError('CONNECTION_BROKEN', 'the provider refused the token');
        case 'forbidden':
          return new ContractError(
            'SCOPE_NOT_GRANTED',
            'the provider says the token lacks a scope',
          );
        case 'conflict':
          return new ContractError('CONFLICT', `${definition.type}: ${error.message}`);
        case 'unavailable':
          return new ContractError('PROVIDER_UNAVAILABLE', 'the provider is throttling or down');
        default:
          return new ContractError('UPSTREAM_FAILED', `${definition.type}: ${error.message}`);
      }
    }
    this.logger.error({ err: error, action: definition.type }, 'action failed unexpectedly');
    return new ContractError('UPSTREAM_FAILED', `${definition.type} failed`);
  }
}

/** The capability's ceilings, checked before the policy: a reason when one is exceeded. */
export function exceedsLimits(
  claims: CapabilityClaims,
  facts: ActionFacts,
  counts: { taskActions: number; taskSpentMinor: number },
): string | undefined {
  const { limits } = claims;
  if (limits.maxActions !== undefined && counts.taskActions >= limits.maxActions) {
    return `the task may take at most ${limits.maxActions} actions`;
  }
  if (limits.recipients !== undefined) {
    const outside = facts.recipients.filter((address) => !limits.recipients!.includes(address));
    if (outside.length > 0) return `the task may not write to ${outside.join(', ')}`;
  }
  if (limits.recipientDomains !== undefined) {
    const outside = facts.recipientDomains.filter(
      (domain) => !limits.recipientDomains!.includes(domain),
    );
    if (outside.length > 0) return `the task may not write to addresses at ${outside.join(', ')}`;
  }
  if (facts.amount !== undefined) {
    if (limits.spend === undefined) return 'the task may not spend money';
    if (facts.amount.currency !== limits.spend.currency) {
      return `the task may spend only ${limits.spend.currency}`;
    }
    if (counts.taskSpentMinor + facts.amount.minor > limits.spend.maxMinor) {
      return `the task may spend at most ${limits.spend.maxMinor} (minor units of ${limits.spend.currency}) in all`;
    }
  }
  return undefined;
}

/** What makes two requests the same request: the action, its parameters and the account. */
function requestHash(request: Request, claims: CapabilityClaims): Buffer {
  return createHash('sha256')
    .update(
      canonicalJson({
        action: request.action,
        params: request.params as JsonValue,
        connectionId: claims.connectionId ?? null,
      }),
    )
    .digest();
}
