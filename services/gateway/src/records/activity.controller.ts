import { Controller, Inject } from '@nestjs/common';
import { listActivity, type RouteResponse } from '@heroagent/contracts';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { ActivityPages } from './activity-pages.js';
import { viewerOf } from './audit-records.client.js';

/**
 * The activity log: the tenant's audit record, newest first, filtered and searched. Audit decides
 * what the viewer sees (a member, only their own events; asking for someone else's is FORBIDDEN);
 * the gateway opens each record's personal fields for them.
 */
@Controller()
export class ActivityController {
  constructor(@Inject(ActivityPages) private readonly pages: ActivityPages) {}

  @Route(listActivity)
  list(@EdgeOf() edge: Edge<typeof listActivity>): Promise<RouteResponse<typeof listActivity>> {
    const { cursor, limit, ...filter } = edge.input.query;
    return this.pages.page(viewerOf(inTenant(edge)), { filter, cursor, limit });
  }
}
