import { retryOnDeadlock } from '@heroagent/db';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { admissionLocks } from '../actions/admission-locks.js';
import type { CancelHeldActions } from '../actions/cancel-held-actions.js';
import type { TaskRow, TasksRepository } from './tasks.repository.js';

/**
 * Stops a running task: its capability is refused from then on, and what it left held — sends in
 * their window, actions waiting for a person or approved and not yet run — is cancelled at once,
 * each recorded, in the same transaction, under the person's admission lock (so nothing the agent
 * asked for a moment before escapes). False if the task was not running.
 */
export class StopTask {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly held: CancelHeldActions,
    private readonly audit: AuditRecorder,
  ) {}

  async execute(
    task: Pick<TaskRow, 'id' | 'tenant_id' | 'user_id' | 'capability_id'>,
    by: { readonly type: 'user' | 'service'; readonly id: string },
    reason: string,
    detail: Record<string, string> = {},
  ): Promise<boolean> {
    const now = new Date();
    const recorded = this.audit.within({
      tenantId: task.tenant_id,
      name: 'task.stopped',
      actor: by,
      userId: task.user_id,
      taskId: task.id,
      outcome: 'success',
      data: { capabilityId: task.capability_id, ...detail },
      // Who stopped it may have said why in their own words.
      ...(reason === '' ? {} : { personal: { reason } }),
    });
    const cancel = this.held.within(
      { taskId: task.id },
      by,
      { code: 'CAPABILITY_REVOKED', message: 'its task was stopped' },
      now,
    );
    const stopped = await retryOnDeadlock(() =>
      this.tasks.stop(
        { tenantId: task.tenant_id, taskId: task.id, userId: task.user_id },
        by.type === 'user' ? by.id : null,
        reason,
        now,
        async (trx) => {
          await recorded(trx);
          await cancel(trx);
        },
        admissionLocks(task.tenant_id, task.user_id),
      ),
    );
    if (stopped) this.audit.committed();
    return stopped;
  }
}
