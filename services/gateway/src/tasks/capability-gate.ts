import { ContractError, type CapabilityClaims } from '@heroagent/contracts';
import type { Capabilities } from './capabilities.js';
import type { RefusalTally } from './refusal-tally.js';
import type { Standing, TasksRepository } from './tasks.repository.js';

/**
 * What every agent request passes first: a genuine, unexpired capability whose task is still
 * running in a tenant whose agents are not paused. A refusal is answered with its code and
 * recorded in the tenant's audit trail when the capability names a tenant (a forged one is
 * recorded too, as an attempt against that tenant) — in aggregate when it repeats; a token that
 * names nothing is only counted.
 */
export class CapabilityGate {
  constructor(
    private readonly capabilities: Capabilities,
    private readonly tasks: TasksRepository,
    private readonly tally: RefusalTally,
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

  /**
   * Notes a refused capability: recorded against the tenant it names if that exists, the first
   * of its kind at once and repeats in aggregate (see RefusalTally), so refusals cannot flood.
   */
  async refused(refusal: ContractError, claimed: unknown, action: string): Promise<void> {
    await this.tally.note(refusal, claimed, action);
  }

  /** Notes an action refused under a genuine capability: recorded the same way, in aggregate. */
  async refusedAction(
    refusal: ContractError,
    claims: CapabilityClaims,
    action: string,
    rationale: string,
  ): Promise<void> {
    await this.tally.noteAction(refusal, claims, action, rationale);
  }

  /** Records the repeats counted since the last flush (the housekeeping does, every minute). */
  flushRefusals(): Promise<number> {
    return this.tally.flush();
  }
}
