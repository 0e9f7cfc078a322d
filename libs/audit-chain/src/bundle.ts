import { z } from 'zod';
import {
  auditRecordSchema,
  serviceNameSchema,
  signedCheckpointSchema,
  tenantIdSchema,
  timestampSchema,
} from '@heroagent/contracts';

/** The name and version of the bundle format. */
export const BUNDLE_FORMAT = 'heroagent.audit-bundle';
export const BUNDLE_VERSION = 1;

/** First line: what the bundle is and whose record it holds. */
export const bundleHeaderSchema = z.strictObject({
  type: z.literal('header'),
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(BUNDLE_VERSION),
  tenantId: tenantIdSchema,
  exportedAt: timestampSchema,
  events: z.number().int().nonnegative(),
});

/** A public key that signed events or checkpoints in the bundle, with its validity period. */
export const bundleKeySchema = z.strictObject({
  type: z.literal('key'),
  kid: z.string().min(1).max(128),
  service: serviceNameSchema,
  alg: z.literal('Ed25519'),
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'is not a 32-byte base64url key'),
  notBefore: timestampSchema,
  notAfter: timestampSchema.optional(),
});

/**
 * One stored event in chain order. Everything in it is covered by the chain: the sequence number by
 * the order check, the hashes by recomputation, the envelope by the hash and its signature. (The
 * time audit received it is not, and so is not in the bundle.)
 */
export const bundleEventSchema = auditRecordSchema
  .omit({ receivedAt: true })
  .extend({ type: z.literal('event') })
  .strict();

/** A signed checkpoint, placed right after the event at its tree size. */
export const bundleCheckpointSchema = signedCheckpointSchema
  .extend({ type: z.literal('checkpoint') })
  .strict();

export type BundleHeader = z.infer<typeof bundleHeaderSchema>;
export type BundleKey = z.infer<typeof bundleKeySchema>;
export type BundleEvent = z.infer<typeof bundleEventSchema>;
export type BundleCheckpoint = z.infer<typeof bundleCheckpointSchema>;

/** Any line of a bundle. */
export const bundleLineSchema = z.discriminatedUnion('type', [
  bundleHeaderSchema,
  bundleKeySchema,
  bundleEventSchema,
  bundleCheckpointSchema,
]);
export type BundleLine = z.infer<typeof bundleLineSchema>;

/** Sequence order: by tree size, then by number (an idle tenant's re-signs share a size). */
export function checkpointOrder(
  a: Omit<BundleCheckpoint, 'type'>,
  b: Omit<BundleCheckpoint, 'type'>,
): number {
  const number = (signed: Omit<BundleCheckpoint, 'type'>) =>
    signed.checkpoint.v === 2 ? signed.checkpoint.index : 0;
  return a.checkpoint.treeSize - b.checkpoint.treeSize || number(a) - number(b);
}

/** The header line of a bundle. */
export function headerLine(header: Omit<BundleHeader, 'type' | 'format' | 'version'>): string {
  return JSON.stringify({
    type: 'header',
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    ...header,
  });
}

/** A key line. */
export function keyLine(key: Omit<BundleKey, 'type' | 'alg'>): string {
  return JSON.stringify({ type: 'key', alg: 'Ed25519', ...key });
}

/** An event line. */
export function eventLine(record: Omit<BundleEvent, 'type'>): string {
  return JSON.stringify({ type: 'event', ...record });
}

/** A checkpoint line. */
export function checkpointLine(checkpoint: Omit<BundleCheckpoint, 'type'>): string {
  return JSON.stringify({ type: 'checkpoint', ...checkpoint });
}

/**
 * Writes a bundle in the order verifiers expect: the header, the keys, then the events in chain
 * order with each checkpoint right after the event at its tree size.
 */
export function* bundleLines(parts: {
  header: Omit<BundleHeader, 'type' | 'format' | 'version'>;
  keys: readonly Omit<BundleKey, 'type' | 'alg'>[];
  records: Iterable<Omit<BundleEvent, 'type'>>;
  checkpoints: readonly Omit<BundleCheckpoint, 'type'>[];
}): Generator<string> {
  yield headerLine(parts.header);
  for (const key of parts.keys) yield keyLine(key);
  const checkpoints = [...parts.checkpoints].sort(checkpointOrder);
  let next = 0;
  for (const record of parts.records) {
    yield eventLine(record);
    while (checkpoints[next]?.checkpoint.treeSize === record.seq) {
      yield checkpointLine(checkpoints[next]!);
      next += 1;
    }
  }
  // Checkpoints beyond the last record (a truncated store) still go out, so the verifier sees them.
  for (; next < checkpoints.length; next += 1) yield checkpointLine(checkpoints[next]!);
}
