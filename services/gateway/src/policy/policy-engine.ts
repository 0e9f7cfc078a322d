import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { actionDefinition } from '@heroagent/contracts';
import { HEROAGENT_CEDAR_SCHEMA } from './cedar-schema.js';
import { DEFAULT_POLICIES } from './default-policies.js';
import { cedarRequest, type PolicyRequest } from './policy-request.js';
import {
  compiledPolicySet,
  type CompiledPolicySet,
  type PreparsedPolicySet,
} from './policy-set-cache.js';
import { readPolicyText, type ParsedPolicy, type PolicySummary } from './policy-text.js';

export { DEFAULT_POLICIES } from './default-policies.js';
export type { PolicyRequest } from './policy-request.js';

/**
 * The policy decision point. Cedar knows permit and forbid; HeroAgent needs three effects:
 * a satisfied `forbid` denies, a satisfied `permit` allows, and a `permit` annotated
 * `@approval("required")` lets the action wait for a person — unless another satisfied permit
 * allows it outright. Tenant policies are evaluated together with the default policies.
 */

export interface PolicyDecision {
  effect: 'allow' | 'deny' | 'require_approval';
  /** The deciding policy's @id, or one of the engine's own: default-deny, policy-error, … */
  policyId: string;
  /** A sentence shown to people: the policy's @reason, or the engine's explanation. */
  reason: string;
}

export type PolicyCheck =
  { ok: true; policies: PolicySummary[] } | { ok: false; problems: string[] };

const SCHEMA_NAME = 'heroagent';
let schemaPreparsed = false;

function preparseSchema(): void {
  if (schemaPreparsed) return;
  const answer = cedar.preparseSchema(SCHEMA_NAME, HEROAGENT_CEDAR_SCHEMA);
  if (answer.type === 'failure') {
    throw new Error(`the Cedar schema does not parse: ${answer.errors[0]?.message ?? ''}`);
  }
  schemaPreparsed = true;
}

function deny(policyId: string, reason: string): PolicyDecision {
  return { effect: 'deny', policyId, reason };
}

function decidedBy(effect: PolicyDecision['effect'], policy: ParsedPolicy): PolicyDecision {
  const fallback = {
    allow: `Allowed by policy "${policy.id}".`,
    deny: `Forbidden by policy "${policy.id}".`,
    require_approval: `Policy "${policy.id}" requires a person's approval.`,
  };
  return { effect, policyId: policy.id, reason: policy.reason ?? fallback[effect] };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Maps Cedar's answer to one of HeroAgent's three effects, reporting policies in set order. */
function decision(answer: cedar.AuthorizationAnswer, set: PreparsedPolicySet): PolicyDecision {
  if (answer.type === 'failure') {
    const messages = answer.errors.map((error) => error.message).join('; ');
    return deny('policy-error', `The request could not be evaluated (${messages}); it is denied.`);
  }
  const { decision: cedarDecision, diagnostics } = answer.response;
  const firstError =
    set.order.flatMap((key) => diagnostics.errors.filter((e) => e.policyId === key))[0] ??
    diagnostics.errors[0];
  if (firstError !== undefined) {
    // Cedar skips a policy that fails; a skipped forbid could let the action through: fail closed.
    const name = set.policies.get(firstError.policyId)?.id ?? firstError.policyId;
    return deny(
      'policy-error',
      `Policy "${name}" failed to evaluate (${firstError.error.message}), so this is denied.`,
    );
  }
  const satisfied = set.order
    .filter((key) => diagnostics.reason.includes(key))
    .flatMap((key) => set.policies.get(key) ?? []);
  const forbid = satisfied.find((policy) => policy.effect === 'forbid');
  if (cedarDecision === 'deny') {
    return forbid === undefined
      ? deny('default-deny', 'no policy allows this')
      : decidedBy('deny', forbid);
  }
  const allow = satisfied.find((policy) => policy.effect === 'permit' && !policy.approval);
  if (allow !== undefined) return decidedBy('allow', allow);
  const approval = satisfied.find((policy) => policy.effect === 'permit' && policy.approval);
  return approval === undefined
    ? deny('default-deny', 'no policy allows this')
    : decidedBy('require_approval', approval);
}

export class PolicyEngine {
  private readonly defaults: readonly ParsedPolicy[];
  private readonly defaultsText: string;

  /**
   * Validates a tenant's policy text against HeroAgent's Cedar schema; returns coded problems
   * (never throws for bad text).
   */
  static check(text: string): PolicyCheck {
    try {
      if (typeof text !== 'string') return { ok: false, problems: ['syntax-error: not text'] };
      const read = readPolicyText(text, { reserveIds: true });
      if (!read.ok) return read;
      return { ok: true, policies: read.policies.map(({ text: _text, ...summary }) => summary) };
    } catch (error) {
      return { ok: false, problems: [`syntax-error: ${errorMessage(error)}`] };
    }
  }

  /** Throws if `defaults` (DEFAULT_POLICIES unless given) is not a valid policy set. */
  constructor(options: { defaults?: string } = {}) {
    preparseSchema();
    this.defaultsText = options.defaults ?? DEFAULT_POLICIES;
    const read = readPolicyText(this.defaultsText, { reserveIds: false });
    if (!read.ok) throw new Error(`invalid default policies: ${read.problems.join('; ')}`);
    this.defaults = read.policies;
  }

  /** Decides one action with the tenant's policies and the defaults together. Never throws. */
  decide(request: PolicyRequest, tenantPolicies: string): PolicyDecision {
    try {
      return this.evaluate(request, tenantPolicies);
    } catch (error) {
      return deny(
        'policy-error',
        `The policy could not be evaluated (${errorMessage(error)}); it is denied.`,
      );
    }
  }

  private evaluate(request: PolicyRequest, tenantPolicies: string): PolicyDecision {
    const definition = actionDefinition(request.action);
    if (definition === undefined) {
      return deny('unknown-action', `"${request.action}" is not an action HeroAgent knows.`);
    }
    const built = cedarRequest(request, definition);
    if (!built.ok) return deny('invalid-request', `The request is invalid: ${built.problem}.`);
    const compiled = this.compile(tenantPolicies);
    if (!compiled.ok) {
      const more =
        compiled.problems.length > 1 ? ` (and ${compiled.problems.length - 1} more)` : '';
      return deny(
        'policy-error',
        `The tenant's policies are invalid, so nothing is allowed until they are fixed: ${compiled.problems[0] ?? ''}${more}`,
      );
    }
    const { ok: _ok, ...call } = built;
    const answer = cedar.statefulIsAuthorized({
      ...call,
      preparsedSchemaName: SCHEMA_NAME,
      validateRequest: true,
      preparsedPolicySetId: compiled.set.slot,
    });
    return decision(answer, compiled.set);
  }

  private compile(tenantPolicies: string): CompiledPolicySet {
    const key = `${this.defaultsText}\u0000${tenantPolicies}`;
    return compiledPolicySet(key, () => {
      const read = readPolicyText(tenantPolicies, { reserveIds: true });
      if (!read.ok) return read;
      const taken = new Set(this.defaults.map((policy) => policy.id));
      const clashes = read.policies.filter((policy) => taken.has(policy.id));
      if (clashes.length > 0) {
        const problems = clashes.map(
          (policy) => `duplicate-id: @id("${policy.id}") is also a default policy's id`,
        );
        return { ok: false, problems };
      }
      // Tenant policies come first: their reasons are the more specific ones to report.
      const policies = new Map<string, ParsedPolicy>([
        ...read.policies.map((policy) => [`tenant/${policy.id}`, policy] as const),
        ...this.defaults.map((policy) => [`default/${policy.id}`, policy] as const),
      ]);
      return { ok: true, policies };
    });
  }
}
