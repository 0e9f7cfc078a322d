import { Controller, Inject } from '@nestjs/common';
import { approveAction, denyAction, listApprovals, type RouteResponse } from '@heroagent/contracts';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { ApprovalsService } from './approvals.service.js';

/** People approve or deny what the policy would not let the agent do alone. */
@Controller()
export class ApprovalsController {
  constructor(@Inject(ApprovalsService) private readonly approvals: ApprovalsService) {}

  @Route(listApprovals)
  async list(
    @EdgeOf() edge: Edge<typeof listApprovals>,
  ): Promise<RouteResponse<typeof listApprovals>> {
    return {
      approvals: await this.approvals.list(inTenant(edge), edge.input.query.status === 'all'),
    };
  }

  @Route(approveAction)
  async approve(
    @EdgeOf() edge: Edge<typeof approveAction>,
  ): Promise<RouteResponse<typeof approveAction>> {
    const session = inTenant(edge);
    const { approval, outcome } = await this.approvals.approve(
      session,
      edge.input.params.id,
      edge.input.body.note,
    );
    return { ...(await this.approvals.view(session.tenant.id, approval.id)), outcome };
  }

  @Route(denyAction)
  async deny(@EdgeOf() edge: Edge<typeof denyAction>): Promise<RouteResponse<typeof denyAction>> {
    const session = inTenant(edge);
    const denied = await this.approvals.deny(session, edge.input.params.id, edge.input.body.note);
    return this.approvals.view(session.tenant.id, denied.id);
  }
}
