import { Controller, Inject } from '@nestjs/common';
import {
  getConsistency,
  getIntegrity,
  verifyIntegrity,
  type RouteResponse,
  type VerificationReport,
} from '@heroagent/contracts';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { EdgeOf, inTenant, Route, type Edge } from '../http/route.js';
import { AuditRecordsClient, viewerOf } from './audit-records.client.js';

/** The event a verification leaves in the record: so audit knows when it was last verified. */
export const CHAIN_VERIFIED = 'audit.chain.verified';

type Status = RouteResponse<typeof getIntegrity>;

function problemOf(report: VerificationReport): string | null {
  const problem = report.firstProblem;
  if (problem === undefined) return null;
  return problem.seq === undefined ? problem.code : `${problem.code} at event ${problem.seq}`;
}

/**
 * The integrity of the tenant's record: its chain as it stands, the latest signed checkpoint,
 * consistency proofs for a witness holding an earlier one, and verifying it all again on demand
 * (which is itself recorded).
 */
@Controller()
export class IntegrityController {
  constructor(
    @Inject(AuditRecordsClient) private readonly records: AuditRecordsClient,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
  ) {}

  @Route(getIntegrity)
  async status(@EdgeOf() edge: Edge<typeof getIntegrity>): Promise<Status> {
    const viewer = viewerOf(inTenant(edge));
    const [newest, checkpoints, verified] = await Promise.all([
      this.records.query({ viewer, limit: 1 }, {}),
      this.records.checkpoints(viewer, 1),
      this.records.query({ viewer, filter: { name: CHAIN_VERIFIED }, limit: 1 }, {}),
    ]);
    const head = newest.records[0];
    const latest = checkpoints.checkpoints[0];
    const last = verified.records[0]?.envelope.event;
    const data = last?.data ?? {};
    return {
      events: head?.seq ?? 0,
      head:
        head === undefined ? null : { seq: head.seq, hash: head.hash, receivedAt: head.receivedAt },
      latestCheckpoint:
        latest === undefined
          ? null
          : {
              index: latest.checkpoint.v === 2 ? latest.checkpoint.index : null,
              treeSize: latest.checkpoint.treeSize,
              rootHash: latest.checkpoint.rootHash,
              chainHead: latest.checkpoint.chainHead,
              signedAt: latest.checkpoint.timestamp,
              kid: latest.signature.kid,
              coversHead: latest.checkpoint.treeSize === (head?.seq ?? 0),
            },
      lastVerification:
        last === undefined
          ? null
          : {
              at: last.occurredAt,
              by: last.userId ?? null,
              ok: data.ok === true,
              events: typeof data.events === 'number' ? data.events : 0,
              checkpoints: typeof data.checkpoints === 'number' ? data.checkpoints : 0,
              problem: typeof data.problem === 'string' ? data.problem : null,
            },
    };
  }

  @Route(getConsistency)
  consistency(
    @EdgeOf() edge: Edge<typeof getConsistency>,
  ): Promise<RouteResponse<typeof getConsistency>> {
    const { from, to, sequenceFrom } = edge.input.query;
    return this.records.consistency(viewerOf(inTenant(edge)), from, to, sequenceFrom);
  }

  @Route(verifyIntegrity)
  async verify(
    @EdgeOf() edge: Edge<typeof verifyIntegrity>,
  ): Promise<RouteResponse<typeof verifyIntegrity>> {
    const session = inTenant(edge);
    const report = await this.records.verify(viewerOf(session));
    const verifiedAt = new Date().toISOString();
    await this.audit.record({
      tenantId: session.tenant.id,
      name: CHAIN_VERIFIED,
      actor: { type: 'user', id: session.userId },
      userId: session.userId,
      outcome: report.ok ? 'success' : 'failure',
      data: {
        ok: report.ok,
        events: report.events,
        checkpoints: report.checkpoints,
        problem: problemOf(report),
      },
    });
    const problem = report.firstProblem;
    return {
      ok: report.ok,
      events: report.events,
      checkpoints: report.checkpoints,
      firstProblem:
        problem === undefined
          ? null
          : { seq: problem.seq ?? null, code: problem.code, message: problem.message },
      verifiedAt,
    };
  }
}
