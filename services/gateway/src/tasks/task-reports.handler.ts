import { Controller, Inject } from '@nestjs/common';
import { reportTaskProgress, type RpcRequest } from '@heroagent/contracts';
import { RpcHandler } from '@heroagent/service';
import { TaskReports } from './task-reports.js';

/** Where the agent reports a task's progress: `gateway.tasks.report`, under the task's capability. */
@Controller()
export class TaskReportsHandler {
  constructor(@Inject(TaskReports) private readonly reports: TaskReports) {}

  @RpcHandler(reportTaskProgress)
  report(request: RpcRequest<typeof reportTaskProgress>) {
    return this.reports.report(request);
  }
}
