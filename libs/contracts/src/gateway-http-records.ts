import { z } from 'zod';
import { auditActorSchema, auditEventSchema, policyDecisionSchema } from './audit-events.js';
import {
  auditFilterSchema,
  consistencyAnswerSchema,
  siemDestinationKindSchema,
  siemDestinationSchema,
} from './audit-records.js';
import { serviceNameSchema, timestampSchema, userIdSchema } from './common.js';
import { everyone, idParams, managers, overseers } from './gateway-http-access.js';
import { defineRoute } from './http-route.js';

/**
 * The gateway's HTTP API for the tenant's audit record, as the compliance console shows it: the
 * activity log, the chain's integrity, the verifiable exports and the SIEM destinations. Audit
 * decides what each viewer may see; the gateway names the viewer from the session, never from the
 * request.
 */

const hashSchema = z.string().regex(/^[0-9a-f]{64}$/);
const cursorSchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor');

/** One audit record as the console lists it: the event's fields, flattened, and its chain links. */
export const activityRecordSchema = z.object({
  seq: z.number().int().positive(),
  receivedAt: timestampSchema,
  eventId: z.uuid(),
  name: z.string(),
  occurredAt: timestampSchema,
  source: serviceNameSchema,
  actor: auditActorSchema,
  userId: z.string().nullable(),
  taskId: z.string().nullable(),
  /** The gateway's action the event is about (`data.actionId`), if any. */
  actionId: z.string().nullable(),
  action: z.string().nullable(),
  outcome: auditEventSchema.shape.outcome,
  rationale: z.string().nullable(),
  policy: policyDecisionSchema.nullable(),
  /** The approval the event ran after or records, from `data` (approvalId, approvedBy, counts). */
  approval: z
    .object({
      id: z.string(),
      approvedBy: z.array(z.string()).nullable(),
      approvals: z.number().nullable(),
      required: z.number().nullable(),
    })
    .nullable(),
  relatedEventId: z.string().nullable(),
  traceId: z.string().nullable(),
  /** Event-specific details exactly as recorded. */
  data: z.record(z.string(), z.json()),
  /**
   * The event's other personal details (a provider's error message, a stop reason, an approver's
   * note), opened by the gateway for this viewer; null when there are none or they were erased.
   */
  details: z.record(z.string(), z.json()).nullable(),
  /**
   * Which data key seals the event's personal fields (the rationale and policy reason above are
   * opened from them by the gateway for this viewer), and whether it was erased — then they read
   * as null.
   */
  personal: z
    .object({
      scope: z.enum(['tenant', 'user']),
      keyId: z.uuid(),
      keyVersion: z.number().int(),
      erased: z.boolean(),
    })
    .nullable(),
  hash: hashSchema,
  prevHash: hashSchema,
  /** Key id of the producing service's signature over the event. */
  signatureKid: z.string(),
});
export type ActivityRecord = z.infer<typeof activityRecordSchema>;

export const listActivity = defineRoute({
  id: 'activity.list',
  method: 'GET',
  path: '/v1/activity',
  summary:
    "The activity log, newest first: a member sees their own events; an owner, admin or auditor the tenant's. Filters combine with AND; `q` searches names, action types, rationales and policy reasons.",
  access: everyone,
  query: z
    .strictObject({
      ...auditFilterSchema.shape,
      cursor: cursorSchema.optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    })
    .refine(
      (query) => query.from === undefined || query.to === undefined || query.from < query.to,
      {
        path: ['to'],
        message: 'must be after from',
      },
    ),
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({
      records: z.array(activityRecordSchema),
      /** Pass it back as `cursor` for the next (older) page; null on the last page. */
      nextCursor: z.string().nullable(),
    }),
  },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'UNAVAILABLE', 'TIMEOUT'],
});

/** The tenant's chain as it stands, and its last verification (an `audit.chain.verified` event). */
export const integrityStatusSchema = z.object({
  /** Events in the tenant's chain (the head's sequence number). */
  events: z.number().int().nonnegative(),
  head: z
    .object({ seq: z.number().int().positive(), hash: hashSchema, receivedAt: timestampSchema })
    .nullable(),
  latestCheckpoint: z
    .object({
      /** Its number in the tenant's sequence (null for one signed before checkpoints were numbered). */
      index: z.number().int().positive().nullable(),
      treeSize: z.number().int().positive(),
      rootHash: hashSchema,
      chainHead: hashSchema,
      signedAt: timestampSchema,
      /** The audit key that signed it; a fingerprint (`ed25519:…`) is what `pnpm audit:verify --trust` pins. */
      kid: z.string(),
      /** Whether it covers every event so far (later ones are covered by the next checkpoint). */
      coversHead: z.boolean(),
    })
    .nullable(),
  lastVerification: z
    .object({
      at: timestampSchema,
      by: userIdSchema.nullable(),
      ok: z.boolean(),
      events: z.number().int().nonnegative(),
      checkpoints: z.number().int().nonnegative(),
      problem: z.string().nullable(),
    })
    .nullable(),
});

export const getIntegrity = defineRoute({
  id: 'integrity.get',
  method: 'GET',
  path: '/v1/integrity',
  summary:
    "The tenant's hash chain: its length and head, the latest signed checkpoint, and the last verification.",
  access: overseers,
  outcome: { kind: 'json', status: 200, schema: integrityStatusSchema },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'UNAVAILABLE', 'TIMEOUT'],
});

export const verificationResultSchema = z.object({
  ok: z.boolean(),
  events: z.number().int().nonnegative(),
  checkpoints: z.number().int().nonnegative(),
  /** The first bad record: its sequence number, what is wrong with it. */
  firstProblem: z
    .object({ seq: z.number().int().nullable(), code: z.string(), message: z.string() })
    .nullable(),
  verifiedAt: timestampSchema,
});

export const verifyIntegrity = defineRoute({
  id: 'integrity.verify',
  method: 'POST',
  path: '/v1/integrity/verify',
  summary:
    "Verifies the tenant's stored record now (every signature, the hash chain, every checkpoint) and records that it did; long for a large record.",
  access: overseers,
  outcome: { kind: 'json', status: 200, schema: verificationResultSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'UNAVAILABLE', 'TIMEOUT'],
  rateLimitPerMinute: 6,
});

/** A tree size in a query: a whole number from 1, written plainly (no sign, exponent or spaces). */
const treeSizeQuery = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, 'must be a whole number of at least 1')
  .transform(Number)
  .pipe(z.number().int().max(Number.MAX_SAFE_INTEGER));

export const getConsistency = defineRoute({
  id: 'integrity.consistency',
  method: 'GET',
  path: '/v1/integrity/consistency',
  summary:
    "An RFC 6962/9162 consistency proof that the tenant's tree at a signed checkpoint (`to`, the latest by default) extends its tree of `from` events (the size of a checkpoint you kept), with the checkpoints signed in between (at most 500; `sequenceFrom=<number>` lists them from that checkpoint number, for the next page): `pnpm audit:verify --since <kept checkpoint> --consistency <this answer>` checks it offline.",
  access: overseers,
  query: z
    .strictObject({
      from: treeSizeQuery,
      to: treeSizeQuery.optional(),
      /** The checkpoint number the sequence starts at: the next page of a long one. */
      sequenceFrom: treeSizeQuery.optional(),
    })
    .refine((query) => query.to === undefined || query.from <= query.to, {
      path: ['to'],
      message: 'must not be smaller than from',
    }),
  outcome: { kind: 'json', status: 200, schema: consistencyAnswerSchema },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'UNAVAILABLE', 'TIMEOUT'],
  rateLimitPerMinute: 30,
});

export const downloadAuditBundle = defineRoute({
  id: 'exports.audit-bundle',
  method: 'GET',
  path: '/v1/exports/audit-bundle',
  summary:
    "Downloads the tenant's verifiable bundle (JSONL: header, keys, every event, every checkpoint, ending with one over everything): `pnpm audit:verify <file> --trust <audit key>` checks it offline.",
  access: overseers,
  outcome: { kind: 'download', contentType: 'application/x-ndjson' },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'UNAVAILABLE', 'TIMEOUT'],
  rateLimitPerMinute: 6,
});

export const downloadAuditCsv = defineRoute({
  id: 'exports.audit-csv',
  method: 'GET',
  path: '/v1/exports/audit.csv',
  summary:
    "Downloads the tenant's record as CSV, for spreadsheets (proves nothing; cells are protected against formula injection).",
  access: overseers,
  outcome: { kind: 'download', contentType: 'text/csv; charset=utf-8' },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'UNAVAILABLE', 'TIMEOUT'],
  rateLimitPerMinute: 6,
});

/** A SIEM destination as the console shows it: header names, never their values. */
export const siemDestinationViewSchema = siemDestinationSchema.extend({
  lastSuccessAt: timestampSchema.nullable(),
  lastError: z.string().nullable(),
});

const siemHeaders = z
  .record(
    z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'is not an HTTP header name'),
    z.string().max(4096),
  )
  .refine((headers) => Object.keys(headers).length <= 20, 'at most 20 headers')
  .default({});

export const listSiemDestinationsRoute = defineRoute({
  id: 'tenant.siem.list',
  method: 'GET',
  path: '/v1/tenant/siem-destinations',
  summary: "The tenant's SIEM destinations (OTLP/HTTP logs) and how far each has been sent.",
  access: overseers,
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({ destinations: z.array(siemDestinationViewSchema) }),
  },
  errors: ['UNAUTHENTICATED', 'FORBIDDEN', 'UNAVAILABLE', 'TIMEOUT'],
});

export const createSiemDestination = defineRoute({
  id: 'tenant.siem.create',
  method: 'POST',
  path: '/v1/tenant/siem-destinations',
  summary:
    "Streams the tenant's audit record and its signed checkpoints to an OTLP/HTTP logs endpoint (kind `otlp`), or POSTs each signed checkpoint to an HTTPS webhook (kind `webhook`), for a witness to keep; header values (API keys) are stored encrypted and never shown again.",
  access: managers,
  body: z.strictObject({
    name: z.string().trim().min(1).max(100),
    kind: siemDestinationKindSchema.default('otlp'),
    endpoint: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .describe('OTLP/HTTP logs endpoint, e.g. https://collector.example/v1/logs'),
    encoding: z.enum(['json', 'protobuf']).default('protobuf'),
    headers: siemHeaders,
    enabled: z.boolean().default(true),
  }),
  outcome: { kind: 'json', status: 201, schema: siemDestinationViewSchema },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'UNAVAILABLE', 'TIMEOUT'],
  rateLimitPerMinute: 30,
});

export const removeSiemDestinationRoute = defineRoute({
  id: 'tenant.siem.remove',
  method: 'DELETE',
  path: '/v1/tenant/siem-destinations/:id',
  summary: 'Stops streaming to a SIEM destination and forgets it (the record itself stays).',
  access: managers,
  params: idParams,
  outcome: { kind: 'no-content' },
  errors: ['UNAUTHENTICATED', 'CSRF_INVALID', 'FORBIDDEN', 'NOT_FOUND', 'UNAVAILABLE', 'TIMEOUT'],
});

export const testSiemDestinationRoute = defineRoute({
  id: 'tenant.siem.test',
  method: 'POST',
  path: '/v1/tenant/siem-destinations/:id/test',
  summary:
    'Sends one test record to a SIEM destination: 200 if the receiver accepted it, UPSTREAM_FAILED with its reason if not.',
  access: managers,
  params: idParams,
  outcome: {
    kind: 'json',
    status: 200,
    schema: z.object({ delivered: z.literal(true), testedAt: timestampSchema }),
  },
  errors: [
    'UNAUTHENTICATED',
    'CSRF_INVALID',
    'FORBIDDEN',
    'NOT_FOUND',
    'UPSTREAM_FAILED',
    'UNAVAILABLE',
    'TIMEOUT',
  ],
  rateLimitPerMinute: 30,
});

/** The routes of the audit record, spread into GATEWAY_ROUTES. */
export const RECORD_ROUTES = [
  listActivity,
  getIntegrity,
  verifyIntegrity,
  getConsistency,
  downloadAuditBundle,
  downloadAuditCsv,
  listSiemDestinationsRoute,
  createSiemDestination,
  removeSiemDestinationRoute,
  testSiemDestinationRoute,
] as const;
