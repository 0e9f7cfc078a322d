import { Controller, Inject } from '@nestjs/common';
import {
  AUDIT_RECORD_RETENTION,
  getRetention,
  saveRetention,
  type RetentionView,
} from '@heroagent/contracts';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { RetentionRepository, type StoredRetention } from './retention.repository.js';

function retentionView(stored: StoredRetention): RetentionView {
  return {
    taskHistoryDays: stored.taskHistoryDays,
    updatedAt: stored.updatedAt?.toISOString() ?? null,
    updatedBy: stored.updatedBy,
    auditRecord: AUDIT_RECORD_RETENTION,
  };
}

/**
 * The tenant's retention of task history: owners, admins and auditors read it, owners and
 * admins change it (recorded in audit); the housekeeping's sweep applies it.
 */
@Controller()
export class RetentionController {
  constructor(
    @Inject(RetentionRepository) private readonly retention: RetentionRepository,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
  ) {}

  @Route(getRetention)
  async get(@EdgeOf() edge: Edge<typeof getRetention>): Promise<RetentionView> {
    const session = inTenant(edge);
    return retentionView(await this.retention.get(session.tenant.id));
  }

  @Route(saveRetention)
  async save(@EdgeOf() edge: Edge<typeof saveRetention>): Promise<RetentionView> {
    const session = inTenant(edge);
    const { taskHistoryDays } = edge.input.body;
    const tenantId = session.tenant.id;
    const now = new Date();
    await this.retention.save(tenantId, taskHistoryDays, session.userId, now, (previous) =>
      this.audit.within({
        tenantId,
        name: 'tenant.retention_changed',
        actor: { type: 'user', id: session.userId },
        userId: session.userId,
        outcome: 'success',
        data: { taskHistoryDays, previousTaskHistoryDays: previous },
      }),
    );
    this.audit.committed();
    return retentionView({ taskHistoryDays, updatedAt: now, updatedBy: session.userId });
  }
}
