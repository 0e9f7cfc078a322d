import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_CHECKPOINT_PURPOSE, type SignedCheckpoint } from '@heroagent/contracts';
import {
  ed25519Fingerprint,
  generateSigningKey,
  signJson,
  type SigningKey,
} from '@heroagent/crypto';
import { bundleLines } from './bundle.js';
import { TenantChain } from './chain.js';
import { bundleKeyOf, signedTestEvent, testBundle } from './testing.js';
import { verifyBundleLines, type VerifyOptions } from './verify.js';

type Line = Record<string, unknown> & {
  type: string;
  seq?: number;
  envelope?: { event: Record<string, unknown>; signature: { sig: string } };
};

const producer = generateSigningKey();
const audit = generateSigningKey();
const tenantId = randomUUID();
const pinned: VerifyOptions = {
  trustedAuditKeys: new Set([ed25519Fingerprint(audit.publicKey)]),
  requireCoveredTail: true,
};

let original: string[];
const parse = (lines: string[]) => lines.map((line) => JSON.parse(line) as Line);
const write = (lines: Line[]) => lines.map((line) => JSON.stringify(line));
const indexOfEvent = (lines: Line[], seq: number) =>
  lines.findIndex((line) => line.type === 'event' && line.seq === seq);
const verify = (lines: string[], options: VerifyOptions = pinned) =>
  verifyBundleLines(lines, options);

/** Rebuilds a fully consistent bundle from envelopes: what an attacker with keys of their own could do. */
function rewrite(
  envelopes: NonNullable<Line['envelope']>[],
  producerKey: SigningKey,
  auditKey: SigningKey,
): string[] {
  const chain = new TenantChain(tenantId);
  const records = envelopes.map((envelope) => {
    const {
      leafHash: _leaf,
      receivedAt: _received,
      ...record
    } = chain.append(
      signedTestEvent(producerKey, tenantId, envelope.event),
      new Date().toISOString(),
    );
    return record;
  });
  const checkpoints: SignedCheckpoint[] = [chain.checkpoint(auditKey, new Date())!];
  return [
    ...bundleLines({
      header: { tenantId, exportedAt: new Date().toISOString(), events: records.length },
      keys: [bundleKeyOf(producerKey, 'gateway'), bundleKeyOf(auditKey, 'audit')],
      records,
      checkpoints,
    }),
  ];
}

describe('offline bundle verification', () => {
  beforeAll(() => {
    original = testBundle({ tenantId, producer, audit, count: 20, checkpointEvery: 5 }).lines;
  });

  it('accepts an untouched bundle: 20 events, 4 checkpoints', async () => {
    expect(await verify(original)).toEqual({ ok: true, events: 20, checkpoints: 4 });
  });

  describe('tamper matrix: every change is found, and the first bad record is named', () => {
    const fields: [string, (event: Record<string, unknown>) => void][] = [
      ['outcome', (event) => (event.outcome = 'failure')],
      ['occurredAt', (event) => (event.occurredAt = '2020-01-01T00:00:00.000Z')],
      ['rationale', (event) => (event.rationale = 'nothing to see here')],
      ['actor', (event) => (event.actor = { type: 'user', id: 'someone-else' })],
      ['data', (event) => ((event.data as Record<string, unknown>).durationMinutes = 600)],
      ['an added field', (event) => (event.data = { ...(event.data as object), extra: true })],
      ['userId', (event) => (event.userId = randomUUID())],
      ['action', (event) => (event.action = 'gmail.messages.send')],
    ];
    it.each(fields)('changing the event %s', async (_name, change) => {
      const lines = parse(original);
      change(lines[indexOfEvent(lines, 7)]!.envelope!.event);
      expect((await verify(write(lines))).firstProblem).toMatchObject({
        seq: 7,
        code: 'HASH_MISMATCH',
      });
    });

    it('changing a field and recomputing the chain hashes (the signature catches it)', async () => {
      const lines = parse(original);
      lines[indexOfEvent(lines, 7)]!.envelope!.event.outcome = 'denied';
      const envelopes = lines.filter((line) => line.type === 'event').map((line) => line.envelope!);
      const chain = new TenantChain(tenantId);
      let at = 0;
      for (const line of lines) {
        if (line.type !== 'event') continue;
        const record = chain.append(envelopes[at++] as never, '');
        Object.assign(line, { prevHash: record.prevHash, hash: record.hash });
      }
      expect((await verify(write(lines))).firstProblem).toMatchObject({
        seq: 7,
        code: 'SIGNATURE_INVALID',
      });
    });

    it('an event with no canonical form (a lone surrogate) is a coded problem, not a crash', async () => {
      const lines = parse(original);
      lines[indexOfEvent(lines, 7)]!.envelope!.event.rationale = 'x\ud800';
      expect(await verify(write(lines))).toMatchObject({
        ok: false,
        firstProblem: { seq: 7, code: 'MALFORMED_LINE' },
      });
    });

    it('changing the signature, the sequence number or a stated hash', async () => {
      const signature = parse(original);
      const sig = signature[indexOfEvent(signature, 3)]!.envelope!.signature;
      sig.sig = `${sig.sig[0] === 'A' ? 'B' : 'A'}${sig.sig.slice(1)}`;
      expect((await verify(write(signature))).firstProblem).toMatchObject({
        seq: 3,
        code: 'HASH_MISMATCH',
      });
      const seq = parse(original);
      seq[indexOfEvent(seq, 9)]!.seq = 10;
      expect((await verify(write(seq))).firstProblem).toMatchObject({ code: 'SEQUENCE_GAP' });
      const hash = parse(original);
      hash[indexOfEvent(hash, 12)]!.hash = '0'.repeat(64);
      expect((await verify(write(hash))).firstProblem).toMatchObject({
        seq: 12,
        code: 'HASH_MISMATCH',
      });
    });

    it('deleting one event', async () => {
      const lines = [...original];
      lines.splice(indexOfEvent(parse(original), 7), 1);
      expect((await verify(lines)).firstProblem).toMatchObject({ seq: 8, code: 'SEQUENCE_GAP' });
    });

    it('reordering two events, with or without renumbering them', async () => {
      const lines = [...original];
      const at = indexOfEvent(parse(original), 7);
      [lines[at], lines[at + 1]] = [lines[at + 1]!, lines[at]!];
      expect((await verify(lines)).firstProblem).toMatchObject({ seq: 8, code: 'SEQUENCE_GAP' });
      const renumbered = parse(lines);
      renumbered[at]!.seq = 7;
      renumbered[at + 1]!.seq = 8;
      expect((await verify(write(renumbered))).firstProblem).toMatchObject({
        seq: 7,
        code: 'PREV_HASH_MISMATCH',
      });
    });

    it('inserting one event, and inserting one with the whole chain recomputed', async () => {
      const lines = parse(original);
      const at = indexOfEvent(lines, 8);
      const forged = { ...lines[at]!, envelope: signedTestEvent(producer, tenantId) };
      const inserted = [...lines.slice(0, at), forged, ...lines.slice(at)];
      expect((await verify(write(inserted))).firstProblem).toMatchObject({ seq: 8 });
      const envelopes = lines.filter((line) => line.type === 'event').map((line) => line.envelope!);
      envelopes.splice(7, 0, forged.envelope as never);
      const rebuilt = rewrite(envelopes, producer, generateSigningKey());
      // Re-signed by another audit key: the chain is consistent, but its checkpoints are not trusted.
      expect((await verify(rebuilt)).firstProblem).toMatchObject({ code: 'AUDIT_KEY_NOT_TRUSTED' });
    });

    it('truncating the tail after a checkpoint', async () => {
      const lines = parse(original);
      const withoutTail = write(
        lines.filter((line) => !(line.type === 'event' && (line.seq ?? 0) > 17)),
      );
      expect((await verify(withoutTail)).firstProblem).toMatchObject({ code: 'TRUNCATED' });
      // The last checkpoint removed too: the header still counts 20 events.
      const last = lines.findLastIndex((line) => line.type === 'checkpoint');
      const withoutCheckpoint = write(
        lines.filter(
          (line, index) => index !== last && !(line.type === 'event' && (line.seq ?? 0) > 15),
        ),
      );
      expect((await verify(withoutCheckpoint)).firstProblem).toMatchObject({ code: 'TRUNCATED' });
      // Events added after the last checkpoint are not covered by any signature.
      const uncovered = write(lines.filter((_line, index) => index !== last));
      expect((await verify(uncovered)).firstProblem).toMatchObject({
        code: 'UNCOVERED_TAIL',
        seq: 16,
      });
    });

    it('swapping a producer key, even with every event re-signed and re-chained', async () => {
      const lines = parse(original);
      const impostor = generateSigningKey(producer.kid);
      const keyLine = lines.find((line) => line.type === 'key' && line.service === 'gateway')!;
      keyLine.publicKey = bundleKeyOf(impostor, 'gateway').publicKey;
      expect((await verify(write(lines))).firstProblem).toMatchObject({
        seq: 1,
        code: 'SIGNATURE_INVALID',
      });
      const envelopes = lines.filter((line) => line.type === 'event').map((line) => line.envelope!);
      const resigned = parse(rewrite(envelopes, impostor, audit));
      // Keep the genuine checkpoints: the re-signed events no longer hash to their roots.
      const genuine = parse(original).filter((line) => line.type === 'checkpoint');
      const mixed = [...resigned.filter((line) => line.type !== 'checkpoint')];
      for (const checkpoint of genuine) {
        const size = (checkpoint.checkpoint as { treeSize: number }).treeSize;
        mixed.splice(indexOfEvent(mixed, size) + 1, 0, checkpoint);
      }
      expect((await verify(write(mixed))).firstProblem).toMatchObject({
        code: 'CHECKPOINT_ROOT_MISMATCH',
      });
    });

    it('swapping the audit key', async () => {
      const lines = parse(original);
      const keyLine = lines.find((line) => line.type === 'key' && line.service === 'audit')!;
      keyLine.publicKey = bundleKeyOf(generateSigningKey(), 'audit').publicKey;
      expect((await verify(write(lines), { requireCoveredTail: true })).firstProblem).toMatchObject(
        {
          code: 'CHECKPOINT_SIGNATURE_INVALID',
        },
      );
      expect((await verify(write(lines))).firstProblem).toMatchObject({
        code: 'AUDIT_KEY_NOT_TRUSTED',
      });
    });

    it('changing, removing or forging a checkpoint', async () => {
      const changed = parse(original);
      const first = changed.find((line) => line.type === 'checkpoint')!;
      (first.checkpoint as { rootHash: string }).rootHash = 'f'.repeat(64);
      expect((await verify(write(changed))).firstProblem).toMatchObject({
        code: 'CHECKPOINT_SIGNATURE_INVALID',
      });

      const lines = parse(original);
      const second = lines.filter((line) => line.type === 'checkpoint')[1]!;
      const removed = write(lines.filter((line) => line !== second));
      // Checkpoints are numbered: the one after the removed one names the gap.
      expect((await verify(removed)).firstProblem).toMatchObject({
        code: 'CHECKPOINT_GAP',
        message: 'checkpoint number 2 is missing (next is 3)',
      });

      const forgedPayload = { ...(first.checkpoint as object), rootHash: 'a'.repeat(64) };
      const forged = parse(original);
      const target = forged.find((line) => line.type === 'checkpoint')!;
      target.checkpoint = forgedPayload;
      target.signature = signJson(forgedPayload, AUDIT_CHECKPOINT_PURPOSE, audit);
      expect((await verify(write(forged))).firstProblem).toMatchObject({
        code: 'CHECKPOINT_ROOT_MISMATCH',
      });
    });

    it('moving an event into another tenant, a producer signing as another service', async () => {
      const other = parse(original);
      const header = other[0]!;
      header.tenantId = randomUUID();
      expect((await verify(write(other))).firstProblem).toMatchObject({
        seq: 1,
        code: 'TENANT_MISMATCH',
      });
      const lines = parse(original);
      lines.find((line) => line.type === 'key' && line.service === 'gateway')!.service = 'agent';
      expect((await verify(write(lines))).firstProblem).toMatchObject({
        seq: 1,
        code: 'KEY_SERVICE_MISMATCH',
      });
    });
  });

  it('names malformed lines and bundles without a header', async () => {
    expect((await verify(['{ not json'])).firstProblem).toMatchObject({
      line: 1,
      code: 'MALFORMED_LINE',
    });
    expect((await verify(original.slice(1))).firstProblem).toMatchObject({
      line: 1,
      code: 'MISSING_HEADER',
    });
    expect((await verify([])).firstProblem).toMatchObject({ code: 'MISSING_HEADER' });
    expect(
      (await verify([...original.slice(0, 3), '{"type":"event","seq":"x"}'])).firstProblem,
    ).toMatchObject({
      line: 4,
      code: 'MALFORMED_LINE',
    });
  });
});
