import type { AuditRecorder, InTransaction } from '../audit/audit-recorder.js';
import type { ActionSweepsRepository, SettledAction } from './action-sweeps.repository.js';
import { STALE_AFTER_MS, type OutcomeUnknownReason } from './outcome-unknown.js';

const REASONS: Record<OutcomeUnknownReason, string> = {
  executor_gone: 'the gateway replica running it stopped while it was running',
  ran_too_long: 'the gateway stopped while it was running',
};

/**
 * Settles actions whose executor will never finish them — the replica running them is gone (its
 * executor lease is free), or they have run for longer than any call may take — as failed with
 * an unknown outcome, each with one `action.outcome_unknown` audit event: never run again, since
 * the provider may have done them. The one place this is decided and recorded, for both callers:
 * the housekeeping sweep (every action at once) and a repeated request finding its first attempt
 * running under a gone replica (that action, at once).
 */
export class FailStaleActions {
  constructor(
    private readonly actions: ActionSweepsRepository,
    private readonly audit: AuditRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The sweep: answers how many it settled. */
  async execute(now: Date = this.now()): Promise<number> {
    const settled = await this.actions.failAbandoned(
      new Date(now.getTime() - STALE_AFTER_MS),
      now,
      (action) => this.record(action),
    );
    if (settled.length > 0) this.audit.committed();
    return settled.length;
  }

  /**
   * One action, if it is still `executing` under a replica that is gone: answers it settled, or
   * undefined (its replica is alive, or it has moved on).
   */
  async settleIfExecutorGone(
    tenantId: string,
    actionId: string,
    now: Date = this.now(),
  ): Promise<SettledAction | undefined> {
    const settled = await this.actions.failIfExecutorGone(tenantId, actionId, now, (action) =>
      this.record(action),
    );
    if (settled !== undefined) this.audit.committed();
    return settled;
  }

  private record({ row, reason }: SettledAction): InTransaction {
    return this.audit.within({
      tenantId: row.tenant_id,
      name: 'action.outcome_unknown',
      actor: { type: 'service', id: 'gateway' },
      userId: row.user_id,
      taskId: row.task_id,
      action: row.type,
      outcome: 'failure',
      rationale: row.rationale,
      relatedEventId: row.audit_event_id,
      data: { actionId: row.id, reason: REASONS[reason], ...executorOf(row.executor) },
    });
  }
}

function executorOf(executor: string | null): { executor?: string } {
  return executor === null ? {} : { executor };
}
