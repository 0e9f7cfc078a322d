import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_DIR, REPO_ROOT } from '../src/paths.js';

// The Dockerfile's build steps without a container engine: the same `pnpm deploy --prod` and the
// same prune script, into a temporary folder, then the service started from that tree alone. A
// service that validates its (empty) configuration and exits 78 has loaded every module it
// imports, so the pruned tree is complete. What no engine ran here: the base image, `docker build`
// itself, the image's user and read-only filesystem (docs/OPERATIONS.md).
const run = promisify(execFile);
const SERVICES = ['gateway', 'agent', 'vault-proxy', 'audit'] as const;
const trees = new Map<string, string>();
let root: string;

function node(
  tree: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // A clean environment: only PATH, and what the case gives.
    const child = spawn(process.execPath, args, {
      cwd: tree,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

beforeAll(async () => {
  for (const service of SERVICES) {
    const main = join(REPO_ROOT, 'services', service, 'dist', 'src', 'main.js');
    await stat(main).catch(() => {
      throw new Error(`${main} is missing: build first (pnpm build)`);
    });
  }
  root = await mkdtemp(join(tmpdir(), 'deploy-check-tree-'));
  for (const service of SERVICES) {
    const tree = join(root, service);
    await run(
      'pnpm',
      [
        '--config.inject-workspace-packages=true',
        '--filter',
        `@heroagent/${service}`,
        'deploy',
        '--prod',
        '--offline',
        tree,
      ],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    await run('sh', [join(DEPLOY_DIR, 'docker', 'prune-tree.sh'), tree]);
    await copyFile(join(DEPLOY_DIR, 'docker', 'probe.js'), join(tree, 'probe.mjs'));
    trees.set(service, tree);
  }
}, 180_000);
afterAll(() => rm(root, { recursive: true, force: true }));

describe.each(SERVICES)('the pruned production tree of %s', (service) => {
  it('holds the build and production dependencies, no sources or dev dependencies', async () => {
    const tree = trees.get(service)!;
    const top = await readdir(tree);
    expect(top).toEqual(
      expect.arrayContaining(['dist', 'node_modules', 'package.json', 'probe.mjs']),
    );
    expect(top).not.toContain('src');
    expect(top).not.toContain('test');
    const heroagent = await readdir(join(tree, 'node_modules', '@heroagent'));
    expect(heroagent).not.toContain('doubles');
    expect(heroagent).toContain('service');
  });

  it('starts from that tree alone and stops at its configuration check (exit 78)', async () => {
    const { code, stderr } = await node(trees.get(service)!, ['dist/src/main.js'], {});
    expect(stderr).toMatch(new RegExp(`\\[${service}\\] invalid configuration:`));
    expect(code).toBe(78);
  });

  it('runs its migrate step from the same tree (exit 78 without its variables)', async () => {
    const { code, stderr } = await node(trees.get(service)!, ['dist/src/migrate.js'], {});
    expect(stderr).toMatch(/DATABASE_MIGRATION_URL: is required/);
    expect(code).toBe(78);
  });
});

describe('the image probe', () => {
  it("audit's provisioning step is in the audit tree", async () => {
    const { code, stderr } = await node(trees.get('audit')!, ['dist/src/provision.js'], {
      NATS_URL: 'not-a-url',
    });
    expect(stderr).toMatch(/NATS_URL/);
    expect(code).toBe(78);
  });

  it("asks the service's health listener: 200 is ready, 503 or nothing listening is not", async () => {
    let status = 200;
    const asked: string[] = [];
    const listener = createServer((request, response) => {
      asked.push(String(request.url));
      response.statusCode = status;
      response.end('{}');
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = String((listener.address() as AddressInfo).port);
    const tree = trees.get('agent')!;
    try {
      expect(await node(tree, ['probe.mjs', 'ready'], { HEALTH_PORT: port })).toMatchObject({
        code: 0,
      });
      // Bound to every address (Kubernetes): asked on loopback.
      expect(
        await node(tree, ['probe.mjs', 'live'], { HEALTH_PORT: port, HEALTH_HOST: '0.0.0.0' }),
      ).toMatchObject({ code: 0 });
      status = 503;
      const down = await node(tree, ['probe.mjs', 'ready'], { HEALTH_PORT: port });
      expect(down).toEqual({ code: 1, stderr: '[probe] ready: /readyz answered 503\n' });
      expect(asked).toEqual(['/readyz', '/healthz', '/readyz']);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
    expect((await node(tree, ['probe.mjs', 'ready'], { HEALTH_PORT: port })).code).toBe(1);
  });

  it('refuses to guess: no port, no mode', async () => {
    const tree = trees.get('gateway')!;
    const unset = await node(tree, ['probe.mjs', 'ready'], {});
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/HEALTH_PORT is not set/);
    expect((await node(tree, ['probe.mjs'], { HEALTH_PORT: '8081' })).stderr).toMatch(/usage/);
  });
});
