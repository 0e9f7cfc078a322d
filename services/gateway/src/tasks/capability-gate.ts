import { ContractError, tenantIdSchema, type CapabilityClaims } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { Capabilities } from './capabilities.js';
import type { Standing, TasksRepository } from './tasks.repository.js';

/**
 * What every agent request passes first: a genuine, unexpired capability whose task is still
 * running in a tenant whose agents are not paused. A refusal is answered with its code and
 * recorded in the tenant's audit trail when the capability names a tenant (a forged one is
 * recorded too, as an attempt against that tenant); a token that names nothing is only logged.
 */
export class CapabilityGate {
  constructor(
    private readonly capabilities: Capabilities,
    private readonly tasks: TasksRepository,
    private readonly audit: AuditRecorder,
    private readonly logger: Logger,
  ) {}

  async admit(token: unknown, context: { action: string }): Promise<CapabilityClaims> {
    const claims = await this.verify(token, context);
    const standing = await this.tasks.standing(claims.tenantId, claims.taskId, claims.id);
    await this.requireLive(claims, standing, context);
    return claims;
  }

  /**
   * The first half of `admit`: a genuine, unexpired capability (no database read), for a caller
   * that reads the task's standing together with other things and then calls `requireLive`.
   */
  async verify(token: unknown, context: { action: string }): Promise<CapabilityClaims> {
    const verified = this.capabilities.verify(token);
    if ('refused' in verified) {
      await this.refused(verified.refused, verified.claimed, context.action);
      throw verified.refused;
    }
    return verified.claims;
  }

  /** The second half of `admit`: refuses (and records) a capability whose task is not live. */
  async requireLive(
    claims: CapabilityClaims,
    standing: Standing,
    context: { action: string },
  ): Promise<void> {
    if (standing === 'live') return;
    const refusal =
      standing === 'paused'
        ? new ContractError('TENANT_PAUSED', "this tenant's agents are paused")
        : new ContractError('CAPABILITY_REVOKED', 'the task was stopped, or is unknown here');
    await this.refused(refusal, claims, context.action);
    throw refusal;
  }

  /** Logs a refused capability, and records it against the tenant it names if that exists. */
  async refused(refusal: ContractError, claimed: unknown, action: string): Promise<void> {
    const fields = (typeof claimed === 'object' && claimed !== null ? claimed : {}) as Record<
      string,
      unknown
    >;
    const tenant = tenantIdSchema.safeParse(fields.tenantId);
    this.logger.warn(
      { code: refusal.code, action, tenantId: tenant.success ? tenant.data : undefined },
      'capability refused',
    );
    // A forged token may name any tenant: it is recorded only against one that exists.
    if (!tenant.success || !(await this.tasks.tenantExists(tenant.data))) return;
    const id = (value: unknown) =>
      typeof value === 'string' && /^[0-9a-f-]{36}$/i.test(value) ? value : undefined;
    try {
      await this.audit.record({
        tenantId: tenant.data,
        name: 'capability.refused',
        actor: { type: 'agent', id: id(fields.taskId) ?? 'unknown' },
        outcome: 'denied',
        ...(id(fields.userId) === undefined ? {} : { userId: id(fields.userId) }),
        ...(id(fields.taskId) === undefined ? {} : { taskId: id(fields.taskId) }),
        data: {
          code: refusal.code,
          reason: refusal.message,
          requestedAction: action.slice(0, 100),
          capabilityId: id(fields.id) ?? null,
        },
      });
    } catch (error) {
      this.logger.error({ err: String(error) }, 'could not record a refused capability');
    }
  }
}
