import {
  ContractError,
  type CapabilityClaims,
  type reportTaskProgress,
  type RpcRequest,
  type RpcResponse,
  type TaskEvent,
} from '@heroagent/contracts';
import type { AuditRecord, AuditRecorder } from '../audit/audit-recorder.js';
import type { Capabilities } from './capabilities.js';
import type { CapabilityGate } from './capability-gate.js';
import type { TaskEventsRepository } from './task-events.repository.js';

/** The agent may still report this long after its capability expired (how it ended, say). */
export const REPORT_LEEWAY_MS = 60 * 60_000;

/** A task's timeline holds at most this many events. */
export const MAX_EVENTS_PER_TASK = 2_000;

const SUBJECT = 'gateway.tasks.report';

/** The audit record an event of the timeline calls for, if any. */
function auditRecordOf(event: TaskEvent, claims: CapabilityClaims): AuditRecord | undefined {
  const base = {
    tenantId: claims.tenantId,
    actor: { type: 'agent' as const, id: claims.taskId },
    userId: claims.userId,
    taskId: claims.taskId,
  };
  switch (event.kind) {
    case 'model.used':
      return {
        ...base,
        name: 'agent.model_used',
        outcome: 'success',
        data: { model: event.model, calls: event.calls, saw: event.saw, redacted: event.redacted },
      };
    // The summary is not recorded: it may hold personal data (audit keeps ids and codes).
    case 'finished':
      return { ...base, name: 'task.agent_finished', outcome: 'success', data: {} };
    case 'failed':
      return { ...base, name: 'task.agent_failed', outcome: 'failure', data: { code: event.code } };
    case 'stopped':
      return {
        ...base,
        name: 'task.agent_stopped',
        outcome: 'success',
        data: { code: event.code },
      };
    // An action the agent asked for is recorded by gateway.actions.execute itself.
    default:
      return undefined;
  }
}

/**
 * `gateway.tasks.report`: the agent appends to the timeline of the task its capability names,
 * and learns whether it should go on. Reports are taken after a stop or a pause (the agent says
 * that it stopped) and for an hour past the capability's expiry; a report sent twice is stored
 * once; what needs a record in audit is recorded in the same transaction.
 */
export class TaskReports {
  constructor(
    private readonly capabilities: Capabilities,
    private readonly gate: CapabilityGate,
    private readonly events: TaskEventsRepository,
    private readonly audit: AuditRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async report(
    request: RpcRequest<typeof reportTaskProgress>,
  ): Promise<RpcResponse<typeof reportTaskProgress>> {
    const verified = this.capabilities.verify(request.capability, { leewayMs: REPORT_LEEWAY_MS });
    if ('refused' in verified) {
      await this.gate.refused(verified.refused, verified.claimed, SUBJECT);
      throw verified.refused;
    }
    const { claims } = verified;
    const appended = await this.events.append(
      claims.tenantId,
      claims.taskId,
      claims.id,
      request.events,
      MAX_EVENTS_PER_TASK,
      (_task, stored) =>
        stored.flatMap((event) => {
          const record = auditRecordOf(event, claims);
          return record === undefined ? [] : [this.audit.within(record)];
        }),
    );
    if (appended.outcome === 'no-such-task') {
      const refusal = new ContractError('NOT_FOUND', 'no such task here for this capability');
      await this.gate.refused(refusal, claims, SUBJECT);
      throw refusal;
    }
    if (appended.outcome === 'timeline-full') {
      throw new ContractError(
        'CONFLICT',
        `a task's timeline holds at most ${MAX_EVENTS_PER_TASK} events: nothing of this report was stored`,
      );
    }
    this.audit.committed();
    const { task } = appended;
    return {
      recorded: appended.stored.length,
      running:
        task.status === 'running' &&
        task.expiresAt.getTime() > this.now().getTime() &&
        !task.paused,
    };
  }
}
