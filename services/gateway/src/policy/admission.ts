import {
  ContractError,
  toValidationIssues,
  type ActionDefinition,
  type ActionFacts,
  type CapabilityLimits,
} from '@heroagent/contracts';
import type { ActionCounts } from '../actions/action-counts.js';
import type { Role } from '../people/people.repository.js';
import type { Standing } from '../tasks/tasks.repository.js';
import { exceedsLimits } from './capability-limits.js';
import type { PolicyDecision, PolicyEngine } from './policy-engine.js';
import { guardUntrustedInput, type UntrustedValue } from './untrusted-input.js';

/**
 * The one admission decision (DESIGN.md, "the path of one action"): whether an action may be
 * asked at all, and if so what the tenant's policy decides. The live path calls it under the
 * person's lock with what it read in the same transaction; an approved action and a held send
 * call it again, under the same lock, before they run; the policy simulator calls it with what
 * it rebuilt from the record. Pure: the callers read, write and record.
 */

/** What a capability grants (a task's, or an outside client's). */
export interface Grant {
  readonly actions: readonly string[];
  readonly limits: CapabilityLimits;
  readonly connectionId?: string | undefined;
}

/** Everything one admission decides on. */
export interface AdmissionRequest {
  readonly tenantId: string;
  readonly userId: string;
  readonly taskId: string;
  readonly grant: Grant;
  /** The type as asked, and its catalog entry (undefined: no such action). */
  readonly type: string;
  readonly definition: ActionDefinition | undefined;
  /** The parameters as the catalog's schema parsed them. */
  readonly params:
    | { readonly success: true; readonly data: unknown }
    | { readonly success: false; readonly error: Parameters<typeof toValidationIssues>[0] };
  /** The task's standing now: running, stopped, expired, or its tenant's agents paused. */
  readonly standing: Standing;
  /** The person's role now; undefined when they are no longer a member. */
  readonly role: Role | undefined;
  /** The person's and the task's other actions that count (never this one). */
  readonly counts: ActionCounts;
  /** The tenant's policy text ('' for the defaults alone). */
  readonly policyText: string;
  /** Whether the task's idempotency key already names an action (a retry). */
  readonly retry: boolean;
  /** Values of the parameters that did not come from the person. */
  readonly untrusted: readonly UntrustedValue[];
  readonly now: Date;
}

/** How a refusal is recorded: as the capability's, as the action's, or not (bad input). */
export type RefusalRecord = 'capability' | 'action' | 'none';

export type Admission =
  | { readonly kind: 'refused'; readonly refusal: ContractError; readonly record: RefusalRecord }
  /** The idempotency key names an earlier request: it answers, nothing is decided again. */
  | { readonly kind: 'retry' }
  | {
      readonly kind: 'decided';
      readonly decision: PolicyDecision;
      readonly definition: ActionDefinition;
      readonly params: unknown;
      readonly facts: ActionFacts;
    };

function refused(
  code: ConstructorParameters<typeof ContractError>[0],
  reason: string,
  record: RefusalRecord,
  issues?: ConstructorParameters<typeof ContractError>[2],
): Admission {
  return { kind: 'refused', refusal: new ContractError(code, reason, issues), record };
}

const STANDING_REFUSALS: Record<Exclude<Standing, 'live'>, () => Admission> = {
  paused: () => refused('TENANT_PAUSED', "this tenant's agents are paused", 'capability'),
  stopped: () =>
    refused('CAPABILITY_REVOKED', 'the task was stopped, or is unknown here', 'capability'),
  unknown: () =>
    refused('CAPABILITY_REVOKED', 'the task was stopped, or is unknown here', 'capability'),
  expired: () => refused('CAPABILITY_EXPIRED', 'the task has expired', 'capability'),
};

/** Decides one action; the checks run in a fixed order and the first that fails answers. */
export function decideAdmission(request: AdmissionRequest, engine: PolicyEngine): Admission {
  const { standing, definition, grant, params } = request;
  if (standing !== 'live') return STANDING_REFUSALS[standing]();
  if (definition === undefined) {
    return refused('ACTION_UNKNOWN', `no such action: ${request.type}`, 'none');
  }
  if (!grant.actions.includes(definition.type)) {
    return refused('ACTION_NOT_ALLOWED', 'the task may not do this action', 'action');
  }
  if (!params.success) {
    return refused(
      'INVALID_REQUEST',
      `the parameters of ${definition.type} are not valid`,
      'none',
      toValidationIssues(params.error).map((issue) => ({
        ...issue,
        path: `params.${issue.path}`,
      })),
    );
  }
  // A retry gets the first outcome, before limits that the first attempt itself may have used up.
  if (request.retry) return { kind: 'retry' };
  if (request.role === undefined) {
    return refused('CAPABILITY_REVOKED', 'the person is no longer a member', 'action');
  }
  if (definition.provider === 'google' && grant.connectionId === undefined) {
    return refused('ACTION_NOT_ALLOWED', 'the task has no connected account', 'action');
  }
  const facts = definition.facts(params.data);
  const overLimit = exceedsLimits(grant.limits, facts, request.counts);
  if (overLimit !== undefined) return refused('ACTION_NOT_ALLOWED', overLimit, 'action');
  const { counts } = request;
  const decision = engine.decide(
    {
      tenantId: request.tenantId,
      principal: { userId: request.userId, role: request.role },
      action: definition.type,
      taskId: request.taskId,
      facts,
      now: request.now,
      recentActions: {
        lastHour: counts.lastHour,
        lastDay: counts.lastDay,
        sameActionLastHour: counts.sameActionLastHour,
      },
      spentTodayMinor: counts.spentTodayMinor,
    },
    request.policyText,
  );
  return {
    kind: 'decided',
    decision: guardUntrustedInput(decision, definition, request.untrusted),
    definition,
    params: params.data,
    facts,
  };
}

/** What becomes of a held action (approved, or a send in its window) when it is due to go on. */
export type Resumption =
  | { readonly proceed: true; readonly decision: PolicyDecision }
  | { readonly proceed: false; readonly refusal: ContractError };

/**
 * An action admitted earlier goes on only if it would be admitted again now — counted beside the
 * others, never against itself — with its approval standing in for the one a policy asks for;
 * otherwise it is cancelled with the refusal's code.
 */
export function decideResumption(admission: Admission, approved: boolean): Resumption {
  switch (admission.kind) {
    case 'refused':
      return { proceed: false, refusal: admission.refusal };
    case 'retry':
      // A resumption is never a retry: the caller asked about the held action itself.
      return {
        proceed: false,
        refusal: new ContractError('INTERNAL', 'a held action was decided as a retry'),
      };
    case 'decided': {
      const { decision } = admission;
      if (decision.effect === 'deny') {
        return {
          proceed: false,
          refusal: new ContractError(
            'POLICY_DENIED',
            `${decision.reason} (policy ${decision.policyId})`,
          ),
        };
      }
      if (decision.effect === 'require_approval' && !approved) {
        return {
          proceed: false,
          refusal: new ContractError(
            'POLICY_DENIED',
            `the tenant's policy now asks for a person's approval, which it was never given: ${decision.reason}`,
          ),
        };
      }
      return { proceed: true, decision };
    }
  }
}
