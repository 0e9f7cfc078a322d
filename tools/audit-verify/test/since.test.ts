import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointLine } from '@heroagent/audit-chain';
import { ed25519Fingerprint, generateSigningKey } from '@heroagent/crypto';
import { runCli } from './run-cli.js';
import { WitnessHistory, resigned } from './witness-history.js';

/** `audit:verify <bundle> --since <kept checkpoint>`: a new export must extend what was kept. */
describe('pnpm audit:verify --since with a bundle', () => {
  const audit = generateSigningKey();
  const trust = ed25519Fingerprint(audit.publicKey);
  const history = new WitnessHistory(audit).append(4).sign().sign().append(3).sign();
  const kept = history.checkpoints[1]!;
  let dir: string;
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  const jsonl = (lines: string[]) => `${lines.join('\n')}\n`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audit-verify-since-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('verifies an export that extends the kept checkpoint (as the SIEM or the webhook delivered it, or a bundle line)', async () => {
    const bundle = await file('later.jsonl', jsonl(history.bundle()));
    const webhookBody = JSON.stringify({
      type: 'heroagent.audit.checkpoint',
      destinationId: '00000000-0000-4000-8000-000000000009',
      ...kept,
    });
    for (const text of [JSON.stringify(kept), checkpointLine(kept), webhookBody]) {
      const since = await file('kept.json', text);
      const result = await runCli([bundle, '--trust', trust, '--since', since]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        'VERIFIED: 7 events and 3 checkpoints, extending the kept checkpoint of 4 events (checkpoint number 2)',
      );
    }
  });

  it.each([
    [
      'a rewritten history (other events, every checkpoint re-signed with the real key)',
      () => new WitnessHistory(audit, history.tenantId).append(7).sign().bundle(),
      'SINCE_NOT_EXTENDED',
    ],
    [
      'a fork of the sequence (the kept number signed twice)',
      () =>
        history.bundle([
          history.checkpoints[0]!,
          resigned(
            kept,
            { timestamp: new Date(Date.parse(kept.checkpoint.timestamp) + 500).toISOString() },
            audit,
          ),
        ]),
      'CHECKPOINT_FORK',
    ],
    [
      'a gap (a checkpoint left out)',
      () => history.bundle([history.checkpoints[0]!, history.checkpoints[2]!]),
      'CHECKPOINT_GAP',
    ],
    [
      'a truncated export (ends before the kept number)',
      () => history.bundle(history.checkpoints.slice(0, 1), 4),
      'SINCE_TRUNCATED',
    ],
  ])('refuses %s with exit 1', async (_name, lines, code) => {
    const since = await file('kept.json', JSON.stringify(kept));
    const bundle = await file('bad.jsonl', jsonl(lines()));
    const result = await runCli([
      bundle,
      '--trust',
      trust,
      '--since',
      since,
      '--allow-uncovered-tail',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`NOT VERIFIED`);
    expect(result.stdout).toContain(code);
  });

  it('refuses a kept checkpoint signed by a key not trusted, and a tampered one', async () => {
    const bundle = await file('later.jsonl', jsonl(history.bundle()));
    const other = ed25519Fingerprint(generateSigningKey().publicKey);
    const since = await file('kept.json', JSON.stringify(kept));
    const untrusted = await runCli([bundle, '--trust', other, '--since', since]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toContain('SINCE_KEY_NOT_TRUSTED');
    const changed = { ...kept, checkpoint: { ...kept.checkpoint, treeSize: 3 } };
    const tampered = await runCli([
      bundle,
      '--trust',
      trust,
      '--since',
      await file('tampered.json', JSON.stringify(changed)),
    ]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('SINCE_SIGNATURE_INVALID');
  });

  it('answers a kept file it cannot use, and --since without a pinned key, with exit 2', async () => {
    const bundle = await file('later.jsonl', jsonl(history.bundle()));
    for (const [text, message] of [
      ['{ not json', 'not JSON'],
      ['{"checkpoint":{}}', 'not a signed checkpoint'],
    ] as const) {
      const result = await runCli([
        bundle,
        '--trust',
        trust,
        '--since',
        await file('bad.json', text),
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    }
    const missing = await runCli([bundle, '--trust', trust, '--since', join(dir, 'none.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
    const unpinned = await runCli([bundle, '--no-pin', '--since', join(dir, 'kept.json')]);
    expect(unpinned.code).toBe(2);
    expect(unpinned.stderr).toContain('--since needs a pinned audit key');
  });
});
