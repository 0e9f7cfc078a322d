import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_CHECKPOINT_PURPOSE,
  type Checkpoint,
  type SignedCheckpoint,
} from '@heroagent/contracts';
import { ed25519Fingerprint, generateSigningKey, signJson } from '@heroagent/crypto';
import { bundleLines, checkpointLine } from './bundle.js';
import { TenantChain, linkTo, type AppendedRecord } from './chain.js';
import { checkpointDigest } from './hashing.js';
import { bundleKeyOf, signedTestEvent } from './testing.js';
import { verifyBundleLines, type VerifyOptions } from './verify.js';

const producer = generateSigningKey();
const audit = generateSigningKey();
const trusted = new Set([ed25519Fingerprint(audit.publicKey)]);
const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 0, minute));

/** A tenant's record: `steps` is a list of event counts (append) and 'sign' / 'resign'. */
function history(tenantId: string, steps: (number | 'sign' | 'resign')[]) {
  const chain = new TenantChain(tenantId);
  const records: AppendedRecord[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  let minute = 0;
  for (const step of steps) {
    if (typeof step === 'number') {
      for (let index = 0; index < step; index += 1)
        records.push(chain.append(signedTestEvent(producer, tenantId), at(minute).toISOString()));
    } else {
      const signed = chain.checkpoint(audit, at((minute += 60)), { resign: step === 'resign' });
      if (signed !== undefined) checkpoints.push(signed);
    }
  }
  return { chain, records, checkpoints };
}

function lines(
  tenantId: string,
  records: readonly AppendedRecord[],
  checkpoints: readonly SignedCheckpoint[],
): string[] {
  return [
    ...bundleLines({
      header: { tenantId, exportedAt: new Date().toISOString(), events: records.length },
      keys: [bundleKeyOf(producer, 'gateway'), bundleKeyOf(audit, 'audit')],
      records: records.map(({ leafHash: _leaf, receivedAt: _received, ...record }) => record),
      checkpoints,
    }),
  ];
}

const verify = (bundle: string[], options: VerifyOptions = {}) =>
  verifyBundleLines(bundle, { trustedAuditKeys: trusted, requireCoveredTail: true, ...options });

/** Re-signs a changed checkpoint with the real audit key: what an operator holding it could do. */
function resigned(signed: SignedCheckpoint, change: Partial<Checkpoint>): SignedCheckpoint {
  const checkpoint = { ...signed.checkpoint, ...change } as Checkpoint;
  return { checkpoint, signature: signJson(checkpoint, AUDIT_CHECKPOINT_PURPOSE, audit) };
}

describe('numbered, linked checkpoints', () => {
  it('an idle tenant re-signs the same tree, numbered and linked to the previous one', async () => {
    const tenantId = randomUUID();
    const { records, checkpoints } = history(tenantId, [3, 'sign', 'sign', 'resign', 'resign']);
    // A plain checkpoint with nothing new is not signed; a re-sign is.
    expect(checkpoints.map(({ checkpoint }) => checkpoint.v === 2 && checkpoint.index)).toEqual([
      1, 2, 3,
    ]);
    const [first, second] = checkpoints.map(({ checkpoint }) => checkpoint);
    expect(second).toMatchObject({ treeSize: 3, rootHash: first!.rootHash });
    expect(second!.v === 2 && second!.previous).toEqual({
      index: 1,
      treeSize: 3,
      rootHash: first!.rootHash,
      digest: checkpointDigest(first!).toString('hex'),
    });
    expect(await verify(lines(tenantId, records, checkpoints))).toEqual({
      ok: true,
      events: 3,
      checkpoints: 3,
    });
  });

  it('a removed checkpoint is a gap; a reordered or back-dated one is out of order', async () => {
    const tenantId = randomUUID();
    const { records, checkpoints } = history(tenantId, [2, 'sign', 'resign', 1, 'sign']);
    const gap = await verify(lines(tenantId, records, [checkpoints[0]!, checkpoints[2]!]));
    expect(gap.firstProblem).toMatchObject({ code: 'CHECKPOINT_GAP' });

    const backDated = resigned(checkpoints[1]!, { timestamp: at(0).toISOString() });
    const back = await verify(lines(tenantId, records, [checkpoints[0]!, backDated]));
    expect(back.firstProblem).toMatchObject({ code: 'CHECKPOINT_OUT_OF_ORDER' });
  });

  it('a checkpoint that links to another version of its predecessor breaks the chain', async () => {
    const tenantId = randomUUID();
    const { records, checkpoints } = history(tenantId, [2, 'sign', 'resign']);
    const second = checkpoints[1]!.checkpoint;
    if (second.v !== 2 || second.previous === null) throw new Error('expected a linked checkpoint');
    const relinked = resigned(checkpoints[1]!, {
      previous: { ...second.previous, digest: 'a'.repeat(64) },
    });
    const report = await verify(lines(tenantId, records, [checkpoints[0]!, relinked]));
    expect(report.firstProblem).toMatchObject({ code: 'CHECKPOINT_CHAIN_BROKEN' });
  });

  it('reads version 1 history, numbers on from it, and refuses a version 1 after a version 2', async () => {
    const tenantId = randomUUID();
    const chain = new TenantChain(tenantId);
    const records = [chain.append(signedTestEvent(producer, tenantId), at(0).toISOString())];
    const head = chain.head;
    const v1: Checkpoint = {
      v: 1,
      tenantId,
      treeSize: 1,
      rootHash: head.frontier.root().toString('hex'),
      chainHead: head.hash.toString('hex'),
      timestamp: at(1).toISOString(),
      previous: null,
    };
    const old = { checkpoint: v1, signature: signJson(v1, AUDIT_CHECKPOINT_PURPOSE, audit) };
    const upgraded = new TenantChain(tenantId, { ...head, lastCheckpoint: linkTo(v1, 1) });
    const next = upgraded.checkpoint(audit, at(2), { resign: true })!;
    expect(next.checkpoint).toMatchObject({ v: 2, index: 2, previous: { index: 1 } });
    expect(await verify(lines(tenantId, records, [old, next]))).toMatchObject({ ok: true });

    // An old-format checkpoint after a numbered one: a downgrade that would drop the numbering.
    const downgrade = resigned(old, { timestamp: at(3).toISOString() });
    const report = await verify([
      ...lines(tenantId, records, [old, next]),
      checkpointLine(downgrade),
    ]);
    expect(report.firstProblem).toMatchObject({ code: 'CHECKPOINT_CHAIN_BROKEN' });
  });
});

describe('--since: a bundle must extend a checkpoint kept earlier', () => {
  const tenantId = randomUUID();
  const { records, checkpoints } = history(tenantId, [3, 'sign', 'resign', 4, 'sign']);
  const kept = checkpoints[1]!;
  const bundle = lines(tenantId, records, checkpoints);

  it('accepts a later export that extends the kept checkpoint', async () => {
    expect(await verify(bundle, { since: kept })).toEqual({ ok: true, events: 7, checkpoints: 3 });
  });

  it('refuses a kept checkpoint of another tenant, an unknown or untrusted key, a bad signature', async () => {
    const other = { ...kept, checkpoint: { ...kept.checkpoint, tenantId: randomUUID() } };
    expect((await verify(bundle, { since: other })).firstProblem).toMatchObject({
      code: 'SINCE_TENANT_MISMATCH',
    });
    const stranger = generateSigningKey();
    const foreign = {
      checkpoint: kept.checkpoint,
      signature: signJson(kept.checkpoint, AUDIT_CHECKPOINT_PURPOSE, stranger),
    };
    expect((await verify(bundle, { since: foreign })).firstProblem).toMatchObject({
      code: 'SINCE_KEY_UNKNOWN',
    });
    expect(
      (await verifyBundleLines(bundle, { trustedAuditKeys: new Set(), since: kept })).firstProblem,
    ).toMatchObject({ code: 'SINCE_KEY_NOT_TRUSTED' });
    expect((await verifyBundleLines(bundle, { since: kept })).firstProblem).toMatchObject({
      code: 'SINCE_KEY_NOT_TRUSTED',
    });
    const tampered = { ...kept, checkpoint: { ...kept.checkpoint, treeSize: 2 } };
    expect((await verify(bundle, { since: tampered })).firstProblem).toMatchObject({
      code: 'SINCE_SIGNATURE_INVALID',
    });
  });

  it('finds a rewritten history: the bundle does not hash to the kept root', async () => {
    // The operator rebuilt the record from other events and re-signed everything with the real key.
    const rewritten = history(tenantId, [7, 'sign']);
    const report = await verify(lines(tenantId, rewritten.records, rewritten.checkpoints), {
      since: kept,
    });
    expect(report.firstProblem).toMatchObject({ seq: 3, code: 'SINCE_NOT_EXTENDED' });
  });

  it('finds a fork of the sequence: another signed checkpoint with the kept number', async () => {
    const other = resigned(kept, { timestamp: at(999).toISOString() });
    const report = await verify(bundle, { since: other });
    expect(report.firstProblem).toMatchObject({ code: 'CHECKPOINT_FORK' });
  });

  it('finds a truncated bundle: fewer events, or a sequence ending before the kept number', async () => {
    const short = lines(tenantId, records.slice(0, 2), []);
    expect(
      (await verify(short, { since: kept, requireCoveredTail: false })).firstProblem,
    ).toMatchObject({
      code: 'SINCE_TRUNCATED',
    });
    const withoutResign = lines(tenantId, records.slice(0, 3), checkpoints.slice(0, 1));
    expect((await verify(withoutResign, { since: kept })).firstProblem).toMatchObject({
      code: 'SINCE_TRUNCATED',
      message: "the kept checkpoint is number 2 but the bundle's sequence ends at 1",
    });
  });
});
