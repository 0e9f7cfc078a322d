import { z } from 'zod';
import {
  actionTypeSchema,
  jsonSignatureSchema,
  taskIdSchema,
  tenantIdSchema,
  timestampSchema,
  userIdSchema,
} from './common.js';
import { signedAuditEventSchema } from './audit-events.js';
import { defineRpc } from './define.js';

/** Roles within a tenant. An auditor reads everything and changes nothing; a member sees their own. */
export const TENANT_ROLES = ['owner', 'admin', 'auditor', 'member'] as const;
export const tenantRoleSchema = z.enum(TENANT_ROLES);
export type TenantRole = z.infer<typeof tenantRoleSchema>;

/** Who is asking, as the gateway authenticated them. Audit decides what they may see from this. */
export const viewerSchema = z.strictObject({
  tenantId: tenantIdSchema,
  userId: userIdSchema,
  role: tenantRoleSchema,
});
export type Viewer = z.infer<typeof viewerSchema>;

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'is not a 32-byte hex hash');

/** A stored audit record: its place in the tenant's chain and the signed envelope as received. */
export const auditRecordSchema = z.object({
  seq: z.number().int().positive(),
  prevHash: hex32,
  hash: hex32,
  receivedAt: timestampSchema,
  envelope: signedAuditEventSchema,
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;

/**
 * What the audit service signed for a tenant before checkpoints were numbered (version 1): an
 * RFC 6962 tree head, linked to the previous one by size and root. Still read in old records.
 */
export const checkpointV1Schema = z.strictObject({
  v: z.literal(1),
  tenantId: tenantIdSchema,
  treeSize: z.number().int().positive(),
  rootHash: hex32,
  /** The chain hash of the event at `treeSize`, binding the hash chain to the tree. */
  chainHead: hex32,
  timestamp: timestampSchema,
  previous: z.strictObject({ treeSize: z.number().int().positive(), rootHash: hex32 }).nullable(),
});

/**
 * What the audit service signs for a tenant (version 2): an RFC 6962 tree head, numbered in the
 * tenant's sequence of checkpoints and linked to the previous one by number, size, root and the
 * SHA-256 of its canonical form. An idle tenant's checkpoint re-signs the same tree with a later
 * time, so a missing number (a gap) or two different checkpoints of one number (a fork) show.
 */
export const checkpointV2Schema = z.strictObject({
  v: z.literal(2),
  tenantId: tenantIdSchema,
  /** 1 for the tenant's first checkpoint, then one more each time (version 1 ones count too). */
  index: z.number().int().positive(),
  treeSize: z.number().int().positive(),
  rootHash: hex32,
  /** The chain hash of the event at `treeSize`, binding the hash chain to the tree. */
  chainHead: hex32,
  timestamp: timestampSchema,
  previous: z
    .strictObject({
      index: z.number().int().positive(),
      treeSize: z.number().int().positive(),
      rootHash: hex32,
      /** SHA-256 of the RFC 8785 form of the previous checkpoint (what its signature covers). */
      digest: hex32,
    })
    .nullable(),
});

/** A checkpoint of either version. */
export const checkpointSchema = z.discriminatedUnion('v', [checkpointV1Schema, checkpointV2Schema]);
export type Checkpoint = z.infer<typeof checkpointSchema>;
export type CheckpointV2 = z.infer<typeof checkpointV2Schema>;

/** Signature purpose of checkpoints. */
export const AUDIT_CHECKPOINT_PURPOSE = 'audit.checkpoint';

export const signedCheckpointSchema = z.strictObject({
  checkpoint: checkpointSchema,
  signature: jsonSignatureSchema,
});
export type SignedCheckpoint = z.infer<typeof signedCheckpointSchema>;

/** Filters of the activity query; all optional, combined with AND. */
export const auditFilterSchema = z.strictObject({
  from: timestampSchema.optional(),
  to: timestampSchema.optional(),
  userId: userIdSchema.optional(),
  action: actionTypeSchema.optional(),
  name: z
    .string()
    .regex(/^[a-z]+(\.[a-z_]+)+$/)
    .max(100)
    .optional(),
  outcome: z.enum(['success', 'failure', 'denied', 'pending']).optional(),
  taskId: taskIdSchema.optional(),
  /**
   * Free text, case-insensitive, found anywhere in an event's name, action type, rationale or
   * policy reason. At least 3 characters: the trigram index cannot narrow anything shorter.
   */
  q: z.string().trim().min(3).max(100).optional(),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

const cursorSchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor');

const VIEWER_ERRORS = ['FORBIDDEN', 'NOT_FOUND'] as const;

/** `audit.records.query`: a page of a tenant's records, newest first. Members see their own only. */
export const queryAuditRecords = defineRpc({
  subject: 'audit.records.query',
  request: z.strictObject({
    viewer: viewerSchema,
    filter: auditFilterSchema.default({}),
    cursor: cursorSchema.optional(),
    limit: z.number().int().min(1).max(500).default(100),
  }),
  response: z.object({ records: z.array(auditRecordSchema), nextCursor: cursorSchema.optional() }),
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description: "Lists a tenant's audit records with filters and cursor pagination.",
});

/**
 * `audit.records.export`: one page of the tenant's record, in chain order. `jsonl`: the
 * verifiable bundle's lines (the first page starts with the header and the public keys).
 * `records`: one stored record (`auditRecordSchema`, as JSON) per line, for the gateway to render
 * for people with the personal fields opened (the CSV download). Every page stays under the NATS
 * payload limit.
 */
export const exportAuditBundle = defineRpc({
  subject: 'audit.records.export',
  request: z.strictObject({
    viewer: viewerSchema,
    format: z.enum(['jsonl', 'records']),
    cursor: cursorSchema.optional(),
  }),
  response: z.object({ lines: z.array(z.string()), nextCursor: cursorSchema.optional() }),
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description:
    'Exports the tenant record as a verifiable JSONL bundle, or its records, page by page.',
});

/** `audit.proofs.inclusion`: proof that one event is in a signed checkpoint. */
export const proveInclusion = defineRpc({
  subject: 'audit.proofs.inclusion',
  request: z.strictObject({
    viewer: viewerSchema,
    eventId: z.uuid(),
    treeSize: z.number().int().positive().optional(),
  }),
  response: z.object({
    leafIndex: z.number().int().nonnegative(),
    leafHash: hex32,
    proof: z.array(hex32),
    checkpoint: signedCheckpointSchema,
  }),
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description: 'Proves an event is included in a signed checkpoint (RFC 9162 inclusion proof).',
});

/** The most checkpoints a consistency answer lists (hourly, that is about three weeks). */
export const CONSISTENCY_SEQUENCE_LIMIT = 500;

/** An audit public key, so a witness can check signatures against the fingerprint it pinned. */
export const auditPublicKeySchema = z.strictObject({
  kid: z.string().min(1).max(128),
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not a 32-byte base64url key'),
  notBefore: timestampSchema,
  notAfter: timestampSchema.optional(),
});

/** A consistency proof between two tree sizes, with the signed checkpoints it connects. */
export const consistencyAnswerSchema = z.object({
  /** The latest checkpoint signed at exactly `first` events, if any. */
  first: signedCheckpointSchema.nullable(),
  second: signedCheckpointSchema,
  proof: z.array(hex32),
  /**
   * The checkpoints by number, from the first one of at least `first` events (or number
   * `sequenceFrom`, when asked) through `second` (at most {@link CONSISTENCY_SEQUENCE_LIMIT}, the
   * oldest first; `sequenceComplete` says whether it reaches `second`).
   */
  sequence: z.array(signedCheckpointSchema).max(CONSISTENCY_SEQUENCE_LIMIT),
  sequenceComplete: z.boolean(),
  /** The audit service's public keys: trust comes from the fingerprints the witness pinned. */
  auditKeys: z.array(auditPublicKeySchema).max(100),
});
export type ConsistencyAnswer = z.infer<typeof consistencyAnswerSchema>;

/**
 * `audit.proofs.consistency`: an RFC 9162 consistency proof that the tenant's tree of `second`
 * events (a signed checkpoint; the latest when omitted) extends its tree of `first` events (the
 * size of a checkpoint a witness kept), with the checkpoints signed in between, so the witness can
 * check the sequence has no gap and no fork from the one it kept.
 */
export const proveConsistency = defineRpc({
  subject: 'audit.proofs.consistency',
  request: z.strictObject({
    viewer: viewerSchema,
    first: z.number().int().positive(),
    second: z.number().int().positive().optional(),
    /** The checkpoint number the sequence starts at (default: the first of `first` events or more). */
    sequenceFrom: z.number().int().positive().optional(),
  }),
  response: consistencyAnswerSchema,
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description:
    'Proves a later signed checkpoint extends an earlier tree size (RFC 9162 consistency proof), with the checkpoints in between.',
});

/** `audit.checkpoints.list`: a tenant's signed checkpoints, newest first. */
export const listCheckpoints = defineRpc({
  subject: 'audit.checkpoints.list',
  request: z.strictObject({
    viewer: viewerSchema,
    limit: z.number().int().min(1).max(500).default(50),
  }),
  response: z.object({ checkpoints: z.array(signedCheckpointSchema) }),
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description: "Lists a tenant's signed checkpoints.",
});

/** What a verification found: counts, and the first bad record if any. */
export const verificationReportSchema = z.object({
  ok: z.boolean(),
  events: z.number().int().nonnegative(),
  checkpoints: z.number().int().nonnegative(),
  firstProblem: z
    .object({
      line: z.number().int().positive().optional(),
      seq: z.number().int().positive().optional(),
      code: z.string(),
      message: z.string(),
    })
    .optional(),
});
export type VerificationReport = z.infer<typeof verificationReportSchema>;

/** `audit.chain.verify`: the service re-verifies a tenant's stored record end to end. */
export const verifyAuditChain = defineRpc({
  subject: 'audit.chain.verify',
  request: z.strictObject({ viewer: viewerSchema }),
  response: verificationReportSchema,
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description: "Verifies every signature, the hash chain and the checkpoints of a tenant's record.",
});

/**
 * What a destination receives: `otlp`, the tenant's events and signed checkpoints as OTLP/HTTP
 * logs; `webhook`, only the signed checkpoints, each POSTed as JSON over HTTPS and signed.
 */
export const siemDestinationKindSchema = z.enum(['otlp', 'webhook']);

/** A SIEM destination as its owner sees it: secrets in headers are never returned. */
export const siemDestinationSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: siemDestinationKindSchema,
  endpoint: z.string(),
  encoding: z.enum(['json', 'protobuf']),
  headerNames: z.array(z.string()),
  enabled: z.boolean(),
  exportedThroughSeq: z.number().int().nonnegative(),
  /** The number of the last signed checkpoint the destination accepted. */
  checkpointsThrough: z.number().int().nonnegative(),
  lastSuccessAt: timestampSchema.optional(),
  lastError: z.string().optional(),
});
export type SiemDestination = z.infer<typeof siemDestinationSchema>;

const headerNameSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'is not an HTTP header name');

/** `audit.siem.configure`: creates or replaces an OTLP/HTTP logs destination for the tenant. */
export const configureSiemDestination = defineRpc({
  subject: 'audit.siem.configure',
  request: z.strictObject({
    viewer: viewerSchema,
    id: z.uuid().optional(),
    name: z.string().trim().min(1).max(100),
    kind: siemDestinationKindSchema.default('otlp'),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .describe(
        'OTLP/HTTP logs endpoint (e.g. https://collector.example/v1/logs), or the webhook URL',
      ),
    encoding: z.enum(['json', 'protobuf']).default('protobuf'),
    headers: z.record(headerNameSchema, z.string().max(4096)).default({}),
    enabled: z.boolean().default(true),
  }),
  response: siemDestinationSchema,
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description:
    'Creates or replaces a SIEM destination (OTLP/HTTP logs) or a checkpoint webhook (HTTPS).',
});

/** `audit.siem.list`: the tenant's SIEM destinations and their export state. */
export const listSiemDestinations = defineRpc({
  subject: 'audit.siem.list',
  request: z.strictObject({ viewer: viewerSchema }),
  response: z.object({ destinations: z.array(siemDestinationSchema) }),
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description: "Lists a tenant's SIEM destinations.",
});

/** `audit.siem.remove`: deletes a destination (the events stay; only their streaming stops). */
export const removeSiemDestination = defineRpc({
  subject: 'audit.siem.remove',
  request: z.strictObject({ viewer: viewerSchema, id: z.uuid() }),
  response: z.object({ removed: z.literal(true) }),
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description: 'Removes a SIEM destination.',
});

/** `audit.siem.test`: sends one test log record to a destination and reports what happened. */
export const testSiemDestination = defineRpc({
  subject: 'audit.siem.test',
  request: z.strictObject({ viewer: viewerSchema, id: z.uuid() }),
  response: z.object({ delivered: z.boolean(), error: z.string().optional() }),
  errors: [...VIEWER_ERRORS],
  callers: ['gateway'],
  description: 'Sends a test record to a SIEM destination.',
});
