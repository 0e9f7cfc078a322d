import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { RetentionRepository } from './retention.repository.js';

const DAY_MS = 24 * 60 * 60_000;

/** What one run of the retention sweep deleted. */
export interface RetentionRun {
  /** Tenants whose finished tasks were deleted (each recorded in audit). */
  readonly tenants: number;
  readonly deletedTasks: number;
}

/**
 * The retention sweep: for every tenant that limits its task history, deletes its finished tasks
 * created more than that many days ago (with their timelines, actions and approvals), and
 * records in audit, in the same transaction, how many. A running task is never deleted. One
 * tenant failing does not stop the others; the run then fails naming how many did.
 */
export class ApplyRetention {
  constructor(
    private readonly retention: RetentionRepository,
    private readonly audit: AuditRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(now: Date = this.now()): Promise<RetentionRun> {
    let tenants = 0;
    let deletedTasks = 0;
    const failures: unknown[] = [];
    for (const { tenantId, taskHistoryDays } of await this.retention.limits()) {
      const createdBefore = new Date(now.getTime() - taskHistoryDays * DAY_MS);
      try {
        const deleted = await this.retention.deleteFinishedTasks(
          tenantId,
          createdBefore,
          now,
          (count) =>
            this.audit.within({
              tenantId,
              name: 'tenant.retention_applied',
              actor: { type: 'service', id: 'gateway' },
              outcome: 'success',
              data: {
                taskHistoryDays,
                deletedTasks: count,
                createdBefore: createdBefore.toISOString(),
              },
            }),
        );
        if (deleted > 0) {
          tenants += 1;
          deletedTasks += deleted;
        }
      } catch (error) {
        failures.push(error);
      }
    }
    if (tenants > 0) this.audit.committed();
    if (failures.length > 0) {
      throw new AggregateError(
        failures,
        `applying retention failed for ${failures.length} tenant(s)`,
      );
    }
    return { tenants, deletedTasks };
  }
}
