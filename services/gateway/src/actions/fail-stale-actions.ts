import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { ActionsRepository } from './actions.repository.js';

/** An action still `executing` after this long was left by a process that died. */
const STALE_AFTER_MS = 10 * 60_000;

/**
 * Marks actions a crash left running (for longer than any call may take) as failed with an
 * unknown outcome, recorded, so none stays `executing` forever and a person can look.
 */
export class FailStaleActions {
  constructor(
    private readonly actions: ActionsRepository,
    private readonly audit: AuditRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(now: Date = this.now()): Promise<number> {
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
}
