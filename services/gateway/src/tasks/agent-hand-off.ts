import { ContractError, type ErrorCode } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { AgentClient } from '../agent/agent.client.js';
import type { AgentSettingsRepository } from '../agent/agent-settings.repository.js';
import type { StopTask } from './stop-task.js';
import type { TaskRow, TasksRepository } from './tasks.repository.js';

/** Why the agent may refuse a task, passed on to the person as the agent said it. */
const REFUSALS: readonly ErrorCode[] = ['MODEL_UNAVAILABLE', 'RATE_LIMITED', 'CONFLICT'];

/** What the person is told when the agent did not take their task. */
function refusalOf(error: unknown): { refusal: ContractError; expected: boolean } {
  if (error instanceof ContractError && REFUSALS.includes(error.code)) {
    return {
      refusal: new ContractError(error.code, `the agent could not take the task: ${error.message}`),
      expected: true,
    };
  }
  const transport =
    error instanceof ContractError && (error.code === 'UNAVAILABLE' || error.code === 'TIMEOUT');
  return {
    refusal: new ContractError('UNAVAILABLE', 'the agent service could not be reached'),
    expected: transport,
  };
}

/**
 * Hands a task the person described in words to the agent, once the task and its record are
 * committed (the agent may act under its capability at once). A task the agent did not take is
 * stopped, so no capability is left live that nobody works with, and the person is told why.
 */
export class AgentHandOff {
  constructor(
    private readonly agent: AgentClient,
    private readonly settings: AgentSettingsRepository,
    private readonly tasks: TasksRepository,
    private readonly stopTask: StopTask,
    private readonly logger: Logger,
  ) {}

  /** The task as it stands once the agent took it; throws (the task stopped) if it did not. */
  async start(task: TaskRow & { request: string }, capability: string): Promise<TaskRow> {
    const { settings } = await this.settings.get(task.tenant_id);
    try {
      await this.agent.startTask({
        tenantId: task.tenant_id,
        userId: task.user_id,
        taskId: task.id,
        text: task.request,
        capability,
        models: settings,
        ...(task.time_zone === null ? {} : { timeZone: task.time_zone }),
        ...(task.account === null ? {} : { account: task.account }),
      });
    } catch (error) {
      const { refusal, expected } = refusalOf(error);
      const code = error instanceof ContractError ? error.code : 'INTERNAL';
      if (!expected) this.logger.error({ err: error, taskId: task.id, code }, 'agent start failed');
      await this.stopRefused(task, refusal.code);
      throw refusal;
    }
    return (await this.tasks.agentAccepted(task.tenant_id, task.id)) ?? task;
  }

  /** Tells the agent that a task it works on was stopped: best effort, a failure is logged. */
  async stopped(task: TaskRow, reason: string): Promise<void> {
    if (task.request === null) return;
    try {
      await this.agent.stopTask({ tenantId: task.tenant_id, taskId: task.id, reason });
    } catch (error) {
      this.logger.warn(
        { taskId: task.id, code: error instanceof ContractError ? error.code : 'INTERNAL' },
        'could not tell the agent that a task was stopped',
      );
    }
  }

  private async stopRefused(task: TaskRow, code: ErrorCode): Promise<void> {
    const reason = `the agent could not take the task (${code})`;
    await this.stopTask.execute(task, { type: 'service', id: 'gateway' }, reason, { code });
  }
}
