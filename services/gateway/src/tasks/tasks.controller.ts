import { Controller, Inject } from '@nestjs/common';
import {
  actionDefinition,
  capabilityLimitsSchema,
  ContractError,
  getAgentsSwitch,
  listTasks,
  pauseAgents,
  previewTask,
  resumeAgents,
  startTask,
  stopTask,
  type RouteResponse,
} from '@heroagent/contracts';
import { EdgeOf, inTenant, Route, type Edge, managesTenant } from '../http/route.js';
import { ERASED } from '../privacy/personal-keys.js';
import { AgentHandOff } from './agent-hand-off.js';
import { chooseActions } from './derive-actions.js';
import { StartTask } from './start-task.js';
import { StopTask } from './stop-task.js';
import { SwitchAgents } from './switch-agents.js';
import { TasksRepository, type TaskRow } from './tasks.repository.js';

function taskView(row: TaskRow, now: Date) {
  return {
    id: row.id,
    userId: row.user_id,
    title: row.title,
    actions: row.actions,
    scope: row.scope,
    connectionId: row.connection_id,
    limits: row.limits === ERASED ? null : capabilityLimitsSchema.parse(row.limits),
    status: row.status === 'running' && row.expires_at <= now ? ('expired' as const) : row.status,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    stoppedAt: row.stopped_at?.toISOString() ?? null,
    stoppedBy: row.stopped_by,
    stopReason: row.stop_reason,
    request: row.request,
    agentStatus: row.agent_status,
    summary: row.summary,
  };
}

/**
 * Tasks: what a person asks the agent to do, and the capability it acts under. A task started
 * with a request in words is handed to the agent service; one without is driven by an API client
 * holding the capability. Stopping a task, or pausing all of a tenant's agents, takes effect on
 * the agent's next request (and the agent is told of a stop at once).
 */
@Controller()
export class TasksController {
  constructor(
    @Inject(TasksRepository) private readonly tasks: TasksRepository,
    @Inject(AgentHandOff) private readonly agent: AgentHandOff,
    @Inject(StartTask) private readonly startTask: StartTask,
    @Inject(StopTask) private readonly stopTask: StopTask,
    @Inject(SwitchAgents) private readonly switchAgents: SwitchAgents,
  ) {}

  @Route(startTask)
  async start(@EdgeOf() edge: Edge<typeof startTask>): Promise<RouteResponse<typeof startTask>> {
    const { task, capability } = await this.startTask.execute(inTenant(edge), edge.input.body);
    return { task: taskView(task, new Date()), capability };
  }

  /** What a task in words may do, and why, before it starts: nothing is started or recorded. */
  @Route(previewTask)
  preview(@EdgeOf() edge: Edge<typeof previewTask>): RouteResponse<typeof previewTask> {
    const session = inTenant(edge);
    const unknown = (edge.input.body.actions ?? []).filter(
      (type) => actionDefinition(type) === undefined,
    );
    if (unknown.length > 0) {
      throw new ContractError('ACTION_UNKNOWN', `no such action: ${unknown.join(', ')}`);
    }
    const chosen = chooseActions({ ...edge.input.body, scope: 'derived' }, session.tenant.role);
    return { actions: chosen.derived };
  }

  @Route(listTasks)
  async list(@EdgeOf() edge: Edge<typeof listTasks>): Promise<RouteResponse<typeof listTasks>> {
    const session = inTenant(edge);
    const asked = edge.input.query.userId;
    if (asked !== undefined && asked !== session.userId && session.tenant.role === 'member') {
      throw new ContractError(
        'FORBIDDEN',
        "only an owner, admin or auditor sees other people's tasks",
      );
    }
    const rows = await this.tasks.list(
      session.tenant.id,
      asked === 'all' ? undefined : (asked ?? session.userId),
    );
    const now = new Date();
    return { tasks: rows.map((row) => taskView(row, now)) };
  }

  @Route(stopTask)
  async stop(@EdgeOf() edge: Edge<typeof stopTask>): Promise<void> {
    const session = inTenant(edge);
    const { id } = edge.input.params;
    const task = await this.tasks.get(session.tenant.id, id);
    const manager = managesTenant(session);
    if (task === undefined || (task.user_id !== session.userId && !manager)) {
      throw new ContractError('NOT_FOUND', 'no such task');
    }
    const stopped = await this.stopTask.execute(
      task,
      { type: 'user', id: session.userId },
      edge.input.body.reason,
    );
    if (!stopped) throw new ContractError('NOT_FOUND', 'the task is not running');
    // Not awaited: the stop has taken effect; telling the agent sooner is a courtesy.
    void this.agent.stopped(task, edge.input.body.reason);
  }

  @Route(getAgentsSwitch)
  async agents(
    @EdgeOf() edge: Edge<typeof getAgentsSwitch>,
  ): Promise<RouteResponse<typeof getAgentsSwitch>> {
    return { paused: await this.tasks.paused(inTenant(edge).tenant.id) };
  }

  @Route(pauseAgents)
  pause(@EdgeOf() edge: Edge<typeof pauseAgents>): Promise<void> {
    return this.setPaused(edge, true);
  }

  @Route(resumeAgents)
  resume(@EdgeOf() edge: Edge<typeof resumeAgents>): Promise<void> {
    return this.setPaused(edge, false);
  }

  private async setPaused(edge: Edge, paused: boolean): Promise<void> {
    const session = inTenant(edge);
    await this.switchAgents.execute(session.tenant.id, paused, session.userId);
  }
}
