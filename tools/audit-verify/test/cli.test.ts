import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBundle } from '@heroagent/audit-chain/testing';
import { ed25519Fingerprint, generateSigningKey } from '@heroagent/crypto';

const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function run(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('pnpm audit:verify (the offline verifier, built)', () => {
  const audit = generateSigningKey();
  const fingerprint = ed25519Fingerprint(audit.publicKey);
  let dir: string;
  let good: string;
  let tampered: string;
  let lines: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audit-verify-'));
    lines = testBundle({
      tenantId: randomUUID(),
      producer: generateSigningKey(),
      audit,
      count: 30,
      checkpointEvery: 10,
    }).lines;
    good = join(dir, 'good.jsonl');
    await writeFile(good, `${lines.join('\n')}\n`);
    const changed = lines.map((line) =>
      line.includes('"seq":17,') ? line.replace('"outcome":"success"', '"outcome":"denied"') : line,
    );
    tampered = join(dir, 'tampered.jsonl');
    await writeFile(tampered, `${changed.join('\n')}\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('verifies a good bundle against the pinned audit key', async () => {
    const result = await run([good, '--trust', fingerprint]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^VERIFIED: 30 events and 3 checkpoints \(audit key pinned: ed25519:/,
    );
  });

  it('names the first bad record of a tampered bundle', async () => {
    const result = await run([tampered, '--trust', fingerprint]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('NOT VERIFIED at line');
    expect(result.stdout).toContain('event 17: HASH_MISMATCH');
    const json = await run([tampered, '--trust', fingerprint, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      firstProblem: { seq: 17, code: 'HASH_MISMATCH' },
    });
  });

  it('refuses a bundle whose checkpoints are signed by a key it was not told to trust', async () => {
    const result = await run([good, '--trust', ed25519Fingerprint(generateSigningKey().publicKey)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('AUDIT_KEY_NOT_TRUSTED');
    const unpinned = await run([good, '--no-pin']);
    expect(unpinned.code).toBe(0);
    expect(unpinned.stdout).toContain('NOT PINNED');
  });

  it('reads standard input', async () => {
    const result = await run(['-', '--trust', fingerprint], `${lines.join('\n')}\n`);
    expect(result.code).toBe(0);
  });

  it.each([
    [[], 'which bundle?'],
    [['bundle.jsonl'], 'no trusted audit key'],
    [['bundle.jsonl', '--trust', 'not-a-fingerprint'], 'is not a key fingerprint'],
    [['bundle.jsonl', '--trust', 'ed25519:AAAAAAAAAAAAAAAA', '--no-pin'], 'contradict'],
    [['bundle.jsonl', '--frobnicate'], 'unknown option --frobnicate'],
  ])('answers the bad command line %j with a usage error (exit 2)', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('usage: pnpm audit:verify');
  });

  it('says what is wrong with a file it cannot read', async () => {
    const result = await run([join(dir, 'missing.jsonl'), '--trust', fingerprint]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read');
    expect(result.stderr).toContain('ENOENT');
  });
});
