import { retryOnDeadlock } from '@heroagent/db';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { tenantLocks } from '../actions/admission-locks.js';
import type { CancelHeldActions } from '../actions/cancel-held-actions.js';
import type { TasksRepository } from './tasks.repository.js';

/**
 * Pauses (or resumes) all of a tenant's agents. A pause takes the tenant's admission lock alone,
 * so it waits for admissions under way and none starts until it commits; everything held in the
 * tenant — sends in their window, actions waiting for a person or approved and not yet run — is
 * cancelled at once, each recorded, in the same transaction.
 */
export class SwitchAgents {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly held: CancelHeldActions,
    private readonly audit: AuditRecorder,
  ) {}

  async execute(tenantId: string, paused: boolean, by: string): Promise<void> {
    const now = new Date();
    const actor = { type: 'user' as const, id: by };
    const recorded = this.audit.within({
      tenantId,
      name: paused ? 'agents.paused' : 'agents.resumed',
      actor,
      outcome: 'success',
      data: {},
    });
    const cancel = paused
      ? this.held.within(
          {},
          actor,
          { code: 'TENANT_PAUSED', message: "the tenant's agents were paused" },
          now,
        )
      : undefined;
    await retryOnDeadlock(() =>
      this.tasks.setPaused(
        tenantId,
        paused,
        by,
        now,
        async (trx) => {
          await recorded(trx);
          await cancel?.(trx);
        },
        tenantLocks(tenantId),
      ),
    );
    this.audit.committed();
  }
}
