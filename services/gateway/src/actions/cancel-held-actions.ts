import type { AuditRecorder, InTransaction } from '../audit/audit-recorder.js';
import type { ApprovalsRepository } from '../approvals/approvals.repository.js';
import { cancelledEvent } from './action-events.js';
import { HELD } from './action-counts.js';
import type { ActionsRepository } from './actions.repository.js';

/** Why held actions were cancelled: the code an agent or approver sees, and a sentence. */
export interface CancelReason {
  readonly code: 'CAPABILITY_REVOKED' | 'TENANT_PAUSED';
  readonly message: string;
}

/**
 * A stop, a pause or a lost membership cancels at once what it leaves held — sends in their
 * window, actions waiting for a person or approved and not yet run — each with its audit event
 * and its approval, in the transaction of the change itself (which holds the admission locks, so
 * no action admitted a moment before is left out).
 */
export class CancelHeldActions {
  constructor(
    private readonly actions: ActionsRepository,
    private readonly approvals: ApprovalsRepository,
    private readonly audit: AuditRecorder,
  ) {}

  /** The work to do inside the change's transaction; the caller commits, then `committed()`s. */
  within(
    scope: { readonly taskId?: string; readonly userId?: string },
    by: { readonly type: 'user' | 'service'; readonly id: string },
    reason: CancelReason,
    now: Date,
  ): InTransaction {
    return async (trx) => {
      await this.approvals.lockOpen(trx, scope, HELD);
      const cancelled = await this.actions.cancelHeld(trx, scope, reason, now);
      if (cancelled.length === 0) return;
      await this.approvals.cancelFor(
        trx,
        cancelled.map((row) => row.id),
        now,
      );
      for (const row of cancelled) {
        const event = cancelledEvent(this.audit, row, by, reason);
        await event(trx);
        await this.actions.recordedAs(trx, row.id, event.eventId);
      }
    };
  }
}
