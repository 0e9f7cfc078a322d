import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKeyFile } from '../src/secrets/embedded/key-file.js';

const CLI = fileURLToPath(new URL('../dist/src/keys-cli.js', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('pnpm --filter @heroagent/vault-proxy keys (the embedded key file, built)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vault-proxy-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key file once, then rotates it to a new current version keeping the old ones', async () => {
    const file = join(dir, 'keys.json');
    const created = await run(['create', file]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('version 1');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const before = await readFile(file, 'utf8');

    const again = await run(['create', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^vault-proxy-keys: EXISTS: /);
    expect(await readFile(file, 'utf8')).toBe(before);

    const rotated = await run(['rotate', file]);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('version 2');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const ring = await loadKeyFile(file);
    expect(ring.currentVersion).toBe(2);
    const first = (JSON.parse(before) as { keys: Record<string, string> }).keys['1'];
    expect(
      (JSON.parse(await readFile(file, 'utf8')) as { keys: Record<string, string> }).keys,
    ).toMatchObject({ '1': first });
    // Nothing is left beside it.
    expect(await readdir(dir)).toEqual(['keys.json']);
  });

  it('answers bad usage, a missing file and a damaged file with a code, changing nothing', async () => {
    for (const args of [[], ['rotate'], ['shred', join(dir, 'x.json')], ['create', 'a', 'b']]) {
      const result = await run(args);
      expect(result.code).toBe(64);
      expect(result.stderr).toMatch(/^vault-proxy-keys: USAGE: /);
    }
    const missing = await run(['rotate', join(dir, 'missing.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^vault-proxy-keys: UNAVAILABLE: .*ENOENT/);

    const damaged = join(dir, 'damaged.json');
    await writeFile(
      damaged,
      '{"format":"heroagent.embedded-keys","version":1,"current":3,"keys":{}}',
    );
    const refused = await run(['rotate', damaged]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^vault-proxy-keys: INVALID: /);
    expect(await readFile(damaged, 'utf8')).toContain('"current":3');

    const unwritable = await run(['create', join(dir, 'no-such-dir', 'keys.json')]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toMatch(/^vault-proxy-keys: UNAVAILABLE: .*ENOENT/);
  });
});
