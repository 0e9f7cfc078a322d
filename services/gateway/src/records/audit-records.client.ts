import {
  ContractError,
  configureSiemDestination,
  exportAuditBundle,
  listCheckpoints,
  proveConsistency,
  listSiemDestinations,
  queryAuditRecords,
  removeSiemDestination,
  testSiemDestination,
  verifyAuditChain,
  type RpcContract,
  type RpcRequestInput,
  type RpcResponse,
  type Viewer,
} from '@heroagent/contracts';
import type { ContractClient } from '@heroagent/service';
import type { inTenant } from '../http/route.js';

/** A re-verification reads the whole record: far longer than an ordinary request. */
const VERIFY_TIMEOUT_MS = 10 * 60_000;
/** An export page is signed over (its first) and read from the store: longer than a query. */
const EXPORT_PAGE_TIMEOUT_MS = 60_000;

/** Who is asking, as the session says: never anything the request names. */
export function viewerOf(session: ReturnType<typeof inTenant>): Viewer {
  return { tenantId: session.tenant.id, userId: session.userId, role: session.tenant.role };
}

/**
 * Where audit's input issues point in the HTTP request: audit names its own fields (`cursor`,
 * `filter.q`, `endpoint`); the person sees the query or body field they sent.
 */
export type IssuePlaces = Readonly<Record<string, string>>;

/**
 * The gateway's side of the audit record: audit's RPCs, asked with the viewer from the session.
 * Audit decides what the viewer may see and do; its coded refusals come back as they are, its
 * input issues renamed to the request's fields, and a missing or slow audit service as
 * UNAVAILABLE or TIMEOUT naming audit.
 */
export class AuditRecordsClient {
  constructor(private readonly client: ContractClient) {}

  query(input: RpcRequestInput<typeof queryAuditRecords>, places: IssuePlaces) {
    return this.ask(queryAuditRecords, input, places);
  }

  exportPage(input: RpcRequestInput<typeof exportAuditBundle>) {
    return this.ask(exportAuditBundle, input, {}, EXPORT_PAGE_TIMEOUT_MS);
  }

  checkpoints(viewer: Viewer, limit: number) {
    return this.ask(listCheckpoints, { viewer, limit }, {});
  }

  /** Audit's sizes are the request's `from` and `to`. */
  consistency(
    viewer: Viewer,
    from: number,
    to: number | undefined,
    sequenceFrom: number | undefined,
  ) {
    return this.ask(
      proveConsistency,
      {
        viewer,
        first: from,
        ...(to === undefined ? {} : { second: to }),
        ...(sequenceFrom === undefined ? {} : { sequenceFrom }),
      },
      { first: 'query.from', second: 'query.to', sequenceFrom: 'query.sequenceFrom' },
      // The proof reads the tree's leaves: as long as an export page can take.
      EXPORT_PAGE_TIMEOUT_MS,
    );
  }

  verify(viewer: Viewer) {
    return this.ask(verifyAuditChain, { viewer }, {}, VERIFY_TIMEOUT_MS);
  }

  configureSiem(input: RpcRequestInput<typeof configureSiemDestination>) {
    return this.ask(configureSiemDestination, input, { endpoint: 'body.endpoint' });
  }

  listSiem(viewer: Viewer) {
    return this.ask(listSiemDestinations, { viewer }, {});
  }

  removeSiem(viewer: Viewer, id: string) {
    return this.ask(removeSiemDestination, { viewer, id }, {});
  }

  testSiem(viewer: Viewer, id: string) {
    return this.ask(testSiemDestination, { viewer, id }, {}, 60_000);
  }

  private async ask<C extends RpcContract>(
    contract: C,
    input: RpcRequestInput<C>,
    places: IssuePlaces,
    timeoutMs?: number,
  ): Promise<RpcResponse<C>> {
    try {
      return await this.client.request(
        contract,
        input,
        timeoutMs === undefined ? {} : { timeoutMs },
      );
    } catch (error) {
      throw fromAudit(error, places);
    }
  }
}

/** Audit's error as the person is told it. */
export function fromAudit(error: unknown, places: IssuePlaces): ContractError {
  if (!(error instanceof ContractError)) {
    return new ContractError('INTERNAL', 'the audit service answered unexpectedly');
  }
  switch (error.code) {
    case 'UNAVAILABLE':
      return new ContractError('UNAVAILABLE', 'the audit service is not reachable; try again');
    case 'TIMEOUT':
      // Audit's own TIMEOUT (a query that ran too long) says what to do; the transport's does not.
      return error.message.includes('did not answer in time')
        ? new ContractError('TIMEOUT', 'the audit service did not answer in time; try again')
        : error;
    case 'INVALID_REQUEST': {
      const issues = (error.issues ?? []).map((issue) => ({
        ...issue,
        path: places[issue.path] ?? issue.path,
      }));
      // An issue with a field the person did not send is the gateway's mistake, not theirs.
      if (
        issues.length === 0 ||
        issues.some((issue) => !Object.values(places).includes(issue.path))
      )
        return new ContractError('INTERNAL', 'the audit service refused the gateway’s request');
      return new ContractError('INVALID_REQUEST', error.message, issues);
    }
    default:
      return error;
  }
}
