import { setTimeout as sleep } from 'node:timers/promises';
import { ContractError, type ActionDefinition } from '@heroagent/contracts';
import type { Gateway } from '../gateway/gateway-link.js';
import type { Json } from '../privacy/redactor.js';
import type { Timeline } from './timeline.js';

/** Refusals of the capability itself: the task cannot go on (the caller ends it). */
export const HALTING_CODES: ReadonlySet<string> = new Set([
  'CAPABILITY_INVALID',
  'CAPABILITY_EXPIRED',
  'CAPABILITY_REVOKED',
  'TENANT_PAUSED',
]);

const RETRIES = 3;
const RETRY_DELAY_MS = 500;

/** Statuses after which an action waiting for a person has been decided. */
const UNDECIDED = new Set(['pending_approval', 'approved', 'executing']);

/** Gateway refusals the model is told about (it may try something else); the rest are failures. */
function outcomeOf(code: string): 'denied' | 'refused' | 'failed' {
  if (code === 'POLICY_DENIED') return 'denied';
  if (
    code === 'ACTION_NOT_ALLOWED' ||
    code === 'INVALID_REQUEST' ||
    code === 'RATE_LIMITED' ||
    code === 'IDEMPOTENCY_CONFLICT' ||
    code === 'SCOPE_NOT_GRANTED'
  )
    return 'refused';
  return 'failed';
}

/**
 * One action asked of the gateway: reported as requested (with its rationale), performed or held
 * for approval (the gateway decides which values did not come from the person), and — when held — waited on until a person decides
 * or it expires. What the model gets back is the outcome, with the data under `data`.
 */
export class ActionStep {
  constructor(
    private readonly gateway: Gateway,
    private readonly timeline: Timeline,
    private readonly signal: AbortSignal,
    private readonly pollMs: number,
  ) {}

  async perform(step: {
    capability: string;
    toolCallId: string;
    action: ActionDefinition;
    params: Record<string, unknown>;
    rationale: string;
    idempotencyKey: string;
  }): Promise<Json> {
    const { toolCallId, action } = step;
    this.timeline.emit({
      kind: 'action.requested',
      toolCallId,
      action: action.type,
      rationale: step.rationale,
    });
    let answer;
    try {
      answer = await this.execute({
        capability: step.capability,
        action: action.type,
        params: step.params as Record<string, Json>,
        idempotencyKey: step.idempotencyKey,
        rationale: step.rationale,
      });
    } catch (error) {
      const refused =
        error instanceof ContractError
          ? error
          : new ContractError('INTERNAL', 'the gateway could not be asked');
      const status = outcomeOf(refused.code);
      this.timeline.emit({
        kind: 'action.outcome',
        toolCallId,
        action: action.type,
        status,
        code: refused.code,
        message: refused.message.slice(0, 2000),
      });
      // The caller decides what ends the task: a refused capability does.
      if (error instanceof ContractError && HALTING_CODES.has(error.code)) throw error;
      return {
        action: action.type,
        status,
        code: refused.code,
        message: refused.message,
      };
    }
    if (answer.status === 'completed') {
      this.timeline.emit({
        kind: 'action.outcome',
        toolCallId,
        action: action.type,
        actionId: answer.actionId,
        status: 'completed',
      });
      return {
        action: action.type,
        status: 'completed',
        data: answer.result,
        undo: answer.undo.available ? 'possible' : 'not possible',
      };
    }
    this.timeline.emit({
      kind: 'action.outcome',
      toolCallId,
      action: action.type,
      actionId: answer.actionId,
      status: 'pending_approval',
    });
    return this.awaitDecision(step.capability, toolCallId, action, answer.actionId);
  }

  /**
   * Asks the gateway, asking again with the same idempotency key when the answer was lost (the
   * gateway may have acted): a retry returns the first outcome and never acts twice.
   */
  private async execute(request: Parameters<Gateway['execute']>[0]) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.gateway.execute(request);
      } catch (error) {
        const lost =
          error instanceof ContractError &&
          (error.code === 'TIMEOUT' || error.code === 'UNAVAILABLE');
        if (!lost || attempt === RETRIES || this.signal.aborted) throw error;
        await sleep(RETRY_DELAY_MS * attempt, undefined, { signal: this.signal });
      }
    }
  }

  private async awaitDecision(
    capability: string,
    toolCallId: string,
    action: ActionDefinition,
    actionId: string,
  ): Promise<Json> {
    for (;;) {
      await sleep(this.pollMs, undefined, { signal: this.signal });
      const state = await this.gateway.action(capability, actionId);
      const status = state.status;
      if (status === 'executing' || UNDECIDED.has(status)) continue;
      this.timeline.emit({
        kind: 'action.outcome',
        toolCallId,
        action: action.type,
        actionId,
        status,
        ...(state.error === undefined
          ? {}
          : { code: state.error.code, message: state.error.message.slice(0, 2000) }),
      });
      return {
        action: action.type,
        status,
        ...(state.result === undefined ? {} : { data: state.result }),
        ...(state.error === undefined
          ? {}
          : { code: state.error.code, message: state.error.message }),
        ...(status === 'rejected' ? { note: 'the person declined this action' } : {}),
      };
    }
  }
}
