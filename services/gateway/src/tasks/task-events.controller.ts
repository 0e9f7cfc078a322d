import { Controller, Inject } from '@nestjs/common';
import {
  ContractError,
  listTaskEvents,
  taskEventSchema,
  type RouteResponse,
} from '@heroagent/contracts';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { TaskEventsRepository, type StoredEvent } from './task-events.repository.js';
import { TasksRepository } from './tasks.repository.js';

/** A stored event as the agent reported it. */
function reported(event: StoredEvent) {
  return taskEventSchema.parse({
    ...(event.body as object),
    kind: event.kind,
    seq: event.seq,
    at: event.at.toISOString(),
  });
}

/**
 * A task's timeline, for its owner and for those who oversee the tenant (owners, admins,
 * auditors); anyone else is told there is no such task.
 */
@Controller()
export class TaskEventsController {
  constructor(
    @Inject(TasksRepository) private readonly tasks: TasksRepository,
    @Inject(TaskEventsRepository) private readonly events: TaskEventsRepository,
  ) {}

  @Route(listTaskEvents)
  async list(
    @EdgeOf() edge: Edge<typeof listTaskEvents>,
  ): Promise<RouteResponse<typeof listTaskEvents>> {
    const session = inTenant(edge);
    const { id } = edge.input.params;
    const task = await this.tasks.get(session.tenant.id, id);
    const overseer = session.tenant.role !== 'member';
    if (task === undefined || (task.user_id !== session.userId && !overseer)) {
      throw new ContractError('NOT_FOUND', 'no such task');
    }
    const { after, limit } = edge.input.query;
    const rows = await this.events.list(session.tenant.id, id, after, limit);
    return { taskId: task.id, agentStatus: task.agent_status, events: rows.map(reported) };
  }
}
