import { Controller, Inject } from '@nestjs/common';
import {
  ContractError,
  createSiemDestination,
  listSiemDestinationsRoute,
  removeSiemDestinationRoute,
  testSiemDestinationRoute,
  type RouteResponse,
  type SiemDestination,
} from '@heroagent/contracts';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { AuditRecordsClient, viewerOf } from './audit-records.client.js';

type DestinationView = RouteResponse<typeof createSiemDestination>;

function toView(destination: SiemDestination): DestinationView {
  return {
    ...destination,
    lastSuccessAt: destination.lastSuccessAt ?? null,
    lastError: destination.lastError ?? null,
  };
}

/** Where a destination sends, for the record: scheme, host and path, never a query string. */
function endpointOf(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.origin}${url.pathname}`;
}

/**
 * The tenant's SIEM destinations, kept by audit: owners and admins configure, remove and test
 * them, auditors see them. Header values (API keys) go to audit, which stores them encrypted;
 * nothing here returns, logs or records them.
 */
@Controller()
export class SiemController {
  constructor(
    @Inject(AuditRecordsClient) private readonly records: AuditRecordsClient,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
  ) {}

  @Route(listSiemDestinationsRoute)
  async list(
    @EdgeOf() edge: Edge<typeof listSiemDestinationsRoute>,
  ): Promise<RouteResponse<typeof listSiemDestinationsRoute>> {
    const { destinations } = await this.records.listSiem(viewerOf(inTenant(edge)));
    return { destinations: destinations.map(toView) };
  }

  @Route(createSiemDestination)
  async create(@EdgeOf() edge: Edge<typeof createSiemDestination>): Promise<DestinationView> {
    const session = inTenant(edge);
    const saved = await this.records.configureSiem({
      viewer: viewerOf(session),
      ...edge.input.body,
    });
    await this.record(session, 'siem.destination.configured', {
      destinationId: saved.id,
      name: saved.name,
      kind: saved.kind,
      endpoint: endpointOf(saved.endpoint),
      encoding: saved.encoding,
      headerNames: saved.headerNames,
      enabled: saved.enabled,
    });
    return toView(saved);
  }

  @Route(removeSiemDestinationRoute)
  async remove(@EdgeOf() edge: Edge<typeof removeSiemDestinationRoute>): Promise<void> {
    const session = inTenant(edge);
    const { id } = edge.input.params;
    await this.records.removeSiem(viewerOf(session), id);
    await this.record(session, 'siem.destination.removed', { destinationId: id });
  }

  @Route(testSiemDestinationRoute)
  async test(
    @EdgeOf() edge: Edge<typeof testSiemDestinationRoute>,
  ): Promise<RouteResponse<typeof testSiemDestinationRoute>> {
    const session = inTenant(edge);
    const sent = await this.records.testSiem(viewerOf(session), edge.input.params.id);
    if (!sent.delivered) {
      throw new ContractError(
        'UPSTREAM_FAILED',
        `the SIEM receiver did not accept the test record: ${sent.error ?? 'no reason given'}`,
      );
    }
    return { delivered: true, testedAt: new Date().toISOString() };
  }

  private async record(
    session: ReturnType<typeof inTenant>,
    name: string,
    data: Record<string, string | boolean | string[]>,
  ): Promise<void> {
    await this.audit.record({
      tenantId: session.tenant.id,
      name,
      actor: { type: 'user', id: session.userId },
      userId: session.userId,
      outcome: 'success',
      data,
    });
  }
}
