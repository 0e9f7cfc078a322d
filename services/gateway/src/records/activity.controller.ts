import { Controller, Inject } from '@nestjs/common';
import { listActivity, type RouteResponse } from '@heroagent/contracts';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { openPersonalFields } from '../privacy/personal-fields.js';
import { PersonalKeys } from '../privacy/personal-keys.js';
import { toActivityRecord } from './activity-view.js';
import { AuditRecordsClient, viewerOf } from './audit-records.client.js';

/**
 * The activity log: the tenant's audit record, newest first, filtered and searched. Audit decides
 * what the viewer sees (a member, only their own events; asking for someone else's is FORBIDDEN).
 */
@Controller()
export class ActivityController {
  constructor(
    @Inject(AuditRecordsClient) private readonly records: AuditRecordsClient,
    @Inject(PersonalKeys) private readonly keys: PersonalKeys,
  ) {}

  @Route(listActivity)
  async list(
    @EdgeOf() edge: Edge<typeof listActivity>,
  ): Promise<RouteResponse<typeof listActivity>> {
    const session = inTenant(edge);
    const { cursor, limit, ...filter } = edge.input.query;
    const page = await this.records.query(
      {
        viewer: viewerOf(session),
        filter,
        limit,
        ...(cursor === undefined ? {} : { cursor }),
      },
      { cursor: 'query.cursor' },
    );
    const opened = await openPersonalFields(
      this.keys,
      page.records.map((record) => record.envelope.event),
    );
    return {
      records: page.records.map((record) =>
        toActivityRecord(record, opened.get(record.envelope.event.id)),
      ),
      nextCursor: page.nextCursor ?? null,
    };
  }
}
