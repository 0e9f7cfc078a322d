import { createHash } from 'node:crypto';
import { Controller, Inject } from '@nestjs/common';
import {
  ContractError,
  getTenantPolicy,
  saveTenantPolicy,
  type RouteResponse,
} from '@heroagent/contracts';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { DEFAULT_POLICIES, PolicyEngine } from './policy-engine.js';
import { PoliciesRepository, type PolicyVersion } from './policies.repository.js';

function view(current: PolicyVersion | undefined): RouteResponse<typeof getTenantPolicy> {
  const text = current?.text ?? '';
  const checked = PolicyEngine.check(text);
  return {
    text,
    version: current?.version ?? 0,
    updatedAt: current?.created_at.toISOString() ?? null,
    updatedBy: current?.created_by ?? null,
    policies: checked.ok ? checked.policies : [],
    defaults: DEFAULT_POLICIES,
  };
}

/** The tenant's policy: read by overseers, replaced by owners and admins, every change audited. */
@Controller()
export class PolicyController {
  constructor(
    @Inject(PoliciesRepository) private readonly policies: PoliciesRepository,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
  ) {}

  @Route(getTenantPolicy)
  async get(
    @EdgeOf() edge: Edge<typeof getTenantPolicy>,
  ): Promise<RouteResponse<typeof getTenantPolicy>> {
    return view(await this.policies.current(inTenant(edge).tenant.id));
  }

  @Route(saveTenantPolicy)
  async save(
    @EdgeOf() edge: Edge<typeof saveTenantPolicy>,
  ): Promise<RouteResponse<typeof saveTenantPolicy>> {
    const session = inTenant(edge);
    const { text, expectedVersion } = edge.input.body;
    const checked = PolicyEngine.check(text);
    if (!checked.ok) {
      throw new ContractError(
        'INVALID_REQUEST',
        'the policy is not valid',
        checked.problems.map((message) => ({ path: 'body.text', message })),
      );
    }
    const saved = await this.policies.save(
      session.tenant.id,
      text,
      expectedVersion,
      session.userId,
      (version) =>
        this.audit.within({
          tenantId: session.tenant.id,
          name: 'policy.changed',
          actor: { type: 'user', id: session.userId },
          userId: session.userId,
          outcome: 'success',
          data: {
            version,
            sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
            policies: checked.policies.map((policy) => policy.id),
          },
        }),
    );
    if (saved === undefined) {
      throw new ContractError(
        'CONFLICT',
        'the policy changed since you read it: read it again, then save',
      );
    }
    this.audit.committed();
    return view(await this.policies.current(session.tenant.id));
  }
}
