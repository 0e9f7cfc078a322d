/** One audit record as `GET /v1/activity` shows it (libs/contracts gateway-http-records). */
export interface ActivityRecord {
  seq: number;
  receivedAt: string;
  eventId: string;
  name: string;
  occurredAt: string;
  source: string;
  actor: { type: 'user' | 'agent' | 'service'; id: string };
  userId: string | null;
  taskId: string | null;
  actionId: string | null;
  action: string | null;
  outcome: string;
  rationale: string | null;
  policy: { effect: string; policyId: string; reason: string } | null;
  approval: {
    id: string;
    approvedBy: string[] | null;
    approvals: number | null;
    required: number | null;
  } | null;
  data: Record<string, unknown>;
  hash: string;
  prevHash: string;
  signatureKid: string;
}

export interface ActivityPage {
  records: ActivityRecord[];
  nextCursor: string | null;
}

export interface IntegrityStatus {
  events: number;
  head: { seq: number; hash: string; receivedAt: string } | null;
  latestCheckpoint: {
    index: number | null;
    treeSize: number;
    rootHash: string;
    chainHead: string;
    signedAt: string;
    kid: string;
    coversHead: boolean;
  } | null;
  lastVerification: {
    at: string;
    by: string | null;
    ok: boolean;
    events: number;
    checkpoints: number;
    problem: string | null;
  } | null;
}

export interface VerificationResult {
  ok: boolean;
  events: number;
  checkpoints: number;
  firstProblem: { seq: number | null; code: string; message: string } | null;
  verifiedAt: string;
}

export interface SiemDestination {
  id: string;
  name: string;
  /** `otlp`: events and signed checkpoints; `webhook`: signed checkpoints only. */
  kind: 'otlp' | 'webhook';
  endpoint: string;
  encoding: 'json' | 'protobuf';
  headerNames: string[];
  enabled: boolean;
  exportedThroughSeq: number;
  checkpointsThrough: number;
  lastSuccessAt: string | null;
  lastError: string | null;
}
