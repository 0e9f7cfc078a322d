import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ed25519Fingerprint,
  exportEd25519PublicKey,
  generateSigningKey,
  toBase64Url,
} from '@heroagent/crypto';
import { COOKIE, FakeGateway, type ConsistencyQuery } from './fake-gateway.js';
import { runCli } from './run-cli.js';
import { WitnessHistory, resigned } from './witness-history.js';

type Answer = ReturnType<WitnessHistory['answer']>;

/**
 * A gateway that lies. The witness kept checkpoint number 2 (4 events); since then the tenant
 * grew to 7 events and checkpoints 3 and 4. Each case is one way a server holding the audit key
 * (or not) could answer GET /v1/integrity/consistency?from=4, and the code the verifier must name.
 */
describe('pnpm audit:verify --since --gateway against a hostile server', () => {
  const audit = generateSigningKey();
  const trust = ed25519Fingerprint(audit.publicKey);
  const history = new WitnessHistory(audit)
    .append(3)
    .sign()
    .append(1)
    .sign()
    .append(3)
    .sign()
    .sign();
  const kept = history.checkpoints[1]!;
  let gateway: FakeGateway;

  const honest = (query?: ConsistencyQuery): Answer =>
    history.answer(kept.checkpoint.treeSize, query?.sequenceFrom);
  const serve = (change: (body: Answer) => unknown, status = 200) =>
    gateway.serve((query) => change(honest(query)), status);
  const witness = (extra: string[] = []) => gateway.witness(trust, extra);

  beforeAll(async () => {
    gateway = await FakeGateway.start(kept);
  });
  afterAll(() => gateway?.close());

  it('accepts an honest answer, asking from the kept size with the session cookie', async () => {
    serve((body) => body);
    const result = await witness();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'VERIFIED: the tree of 7 events (checkpoint number 4) extends the kept tree of 4 events (checkpoint number 2); 2 later checkpoints linked without a gap',
    );
    expect(gateway.requests.at(-1)).toEqual({
      url: '/v1/integrity/consistency?from=4',
      cookie: COOKIE,
    });
  });

  it('accepts an idle record: the kept tree re-signed since, with an empty proof', async () => {
    const idleKept = join(gateway.dir, 'idle-kept.json');
    await writeFile(idleKept, JSON.stringify(history.checkpoints[2]));
    gateway.serve(() => history.answer(7));
    const result = await gateway.witness(trust, [], idleKept);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'the tree of 7 events (checkpoint number 4) extends the kept tree of 7 events (checkpoint number 3); 1 later checkpoint linked',
    );
    expect(gateway.requests.at(-1)?.url).toBe('/v1/integrity/consistency?from=7');
  });

  const other = generateSigningKey();
  const otherKey = toBase64Url(exportEd25519PublicKey(other.publicKey));
  const flip = (hash: string) => `${hash[0] === 'a' ? 'b' : 'a'}${hash.slice(1)}`;

  it.each<[string, (body: Answer) => unknown, string]>([
    [
      'a proof that lies (one hash changed)',
      (b) => ({ ...b, proof: [flip(b.proof[0]!), ...b.proof.slice(1)] }),
      'CONSISTENCY_PROOF_INVALID',
    ],
    [
      'a proof that lies (a hash dropped)',
      (b) => ({ ...b, proof: b.proof.slice(1) }),
      'CONSISTENCY_PROOF_INVALID',
    ],
    ['an empty proof', (b) => ({ ...b, proof: [] }), 'CONSISTENCY_PROOF_INVALID'],
    [
      'a latest checkpoint over another history, signed with the real key',
      (b) => ({
        ...b,
        second: resigned(b.second, { rootHash: 'e'.repeat(64) }, audit),
        sequence: [
          ...b.sequence.slice(0, -1),
          resigned(b.second, { rootHash: 'e'.repeat(64) }, audit),
        ],
      }),
      'CONSISTENCY_PROOF_INVALID',
    ],
    [
      'a fork: another root signed for the kept size',
      (b) => ({ ...b, first: resigned(b.first!, { rootHash: 'd'.repeat(64) }, audit) }),
      'SINCE_NOT_EXTENDED',
    ],
    [
      'a fork: the kept number signed again with another time',
      (b) => ({
        ...b,
        sequence: b.sequence.map((c) =>
          c.checkpoint.v === 2 && c.checkpoint.index === 2
            ? resigned(c, { timestamp: '2026-12-01T09:00:00.000Z' }, audit)
            : c,
        ),
      }),
      'CHECKPOINT_FORK',
    ],
    [
      'a truncated sequence: checkpoint 3 left out',
      (b) => ({
        ...b,
        sequence: b.sequence.filter((c) => c.checkpoint.v !== 2 || c.checkpoint.index !== 3),
      }),
      'CHECKPOINT_GAP',
    ],
    [
      'a truncated sequence: starting after the kept checkpoint',
      (b) => ({ ...b, sequence: b.sequence.slice(2) }),
      'CHECKPOINT_GAP',
    ],
    [
      'a truncated sequence that says it is complete but stops before the latest',
      (b) => ({ ...b, sequence: b.sequence.slice(0, -1) }),
      'CHECKPOINT_CHAIN_BROKEN',
    ],
    [
      'a sequence re-linked to another predecessor',
      (b) => ({
        ...b,
        sequence: b.sequence.map((c) =>
          c.checkpoint.v === 2 && c.checkpoint.index === 3 && c.checkpoint.previous !== null
            ? resigned(c, { previous: { ...c.checkpoint.previous, digest: 'f'.repeat(64) } }, audit)
            : c,
        ),
      }),
      'CHECKPOINT_CHAIN_BROKEN',
    ],
    [
      'a sequence said to be incomplete whose next page goes no further',
      (b) => ({ ...b, sequenceComplete: false }),
      'SEQUENCE_UNENDING',
    ],
    [
      'a truncated tree: the latest checkpoint behind the kept one',
      (b) => ({ ...b, second: history.checkpoints[0]!, sequence: history.checkpoints.slice(0, 1) }),
      'SINCE_TRUNCATED',
    ],
    [
      'checkpoints signed by a key the witness does not trust (served with it)',
      (b) => {
        const second = resigned(b.second, {}, other);
        return {
          ...b,
          second,
          auditKeys: [
            ...b.auditKeys,
            {
              ...b.auditKeys[0]!,
              kid: other.kid,
              publicKey: otherKey,
            },
          ],
        };
      },
      'AUDIT_KEY_NOT_TRUSTED',
    ],
    [
      'a key swapped under the audit key id',
      (b) => ({
        ...b,
        auditKeys: [
          {
            ...b.auditKeys[0]!,
            publicKey: otherKey,
          },
        ],
      }),
      'SINCE_KEY_NOT_TRUSTED',
    ],
    [
      'a checkpoint whose signature does not verify',
      (b) => ({
        ...b,
        second: {
          ...b.second,
          checkpoint: { ...b.second.checkpoint, timestamp: '2027-01-01T00:00:00.000Z' },
        },
      }),
      'CHECKPOINT_SIGNATURE_INVALID',
    ],
    [
      "another tenant's checkpoints",
      (b) => {
        const stranger = new WitnessHistory(audit).append(8).sign();
        const second = stranger.checkpoints[0]!;
        return { ...b, second, sequence: [...b.sequence, second] };
      },
      'TENANT_MISMATCH',
    ],
    ['not an answer at all', () => 'this is not json', 'MALFORMED_ANSWER'],
    ['an answer missing its proof', ({ proof: _proof, ...rest }) => rest, 'MALFORMED_ANSWER'],
  ])('refuses %s with exit 1 and %s', async (_name, change, code) => {
    serve(change);
    const result = await witness(['--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, firstProblem: { code } });
  });

  it('says when the gateway refuses or cannot be reached (exit 2), and sends no cookie elsewhere', async () => {
    serve(() => ({ code: 'FORBIDDEN', message: 'only owners, admins and auditors' }), 403);
    const refused = await witness();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('the gateway answered 403');
    for (const [args, message] of [
      [['--gateway', 'http://gateway.example'], 'must be https'],
      [['--gateway', 'https://user:pw@gateway.example'], 'must not carry credentials'],
      [['--gateway', 'https://gateway.example'], '--gateway needs --session-file'],
      [['--consistency', 'answer.json'], 'add --since'],
      [['bundle.jsonl', '--consistency', 'answer.json', '--since', 'kept.json'], 'not both'],
    ] as const) {
      const result = await runCli([...args, '--trust', trust]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });

  it('checks a saved answer file the same way', async () => {
    const file = join(gateway.dir, 'answer.json');
    const check = () =>
      runCli(['--since', gateway.keptFile, '--trust', trust, '--consistency', file]);
    await writeFile(file, JSON.stringify(honest()));
    expect((await check()).code).toBe(0);
    await writeFile(file, JSON.stringify({ ...honest(), proof: [] }));
    const lying = await check();
    expect(lying.code).toBe(1);
    expect(lying.stdout).toContain('CONSISTENCY_PROOF_INVALID');
    // A saved answer is one page: one that says more follow cannot be completed from the file.
    await writeFile(file, JSON.stringify({ ...honest(), sequenceComplete: false }));
    const incomplete = await check();
    expect(incomplete.code).toBe(1);
    expect(incomplete.stdout).toContain('SEQUENCE_INCOMPLETE');
  });
});
