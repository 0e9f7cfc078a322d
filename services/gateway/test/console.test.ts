import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../src/config.js';
import { CONSOLE_CSP } from '../src/http/console-static.js';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';

describe('the console, served by the gateway', () => {
  let fx: GatewayFixture;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'console-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'not to be served');
    fx = await startGatewayFixture({ CONSOLE_DIR: dir });
  });
  afterAll(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page at / with the console’s own policy, never cached', async () => {
    const response = await fetch(`${fx.origin}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>console</title>');
    expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('serves hashed assets for a year, and nothing else from disk (no traversal)', async () => {
    const asset = await fetch(`${fx.origin}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toMatch(/max-age=31536000, immutable/);
    expect(asset.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    for (const path of [
      '/assets/missing.js',
      '/secret.txt',
      '/assets/%2e%2e/secret.txt',
      '/assets/..%2fsecret.txt',
    ]) {
      const response = await fetch(`${fx.origin}${path}`);
      expect([403, 404], path).toContain(response.status);
      expect(await response.text(), path).not.toContain('not to be served');
    }
  });

  it('leaves the API as it was: deny-all policy, JSON errors', async () => {
    const response = await fetch(`${fx.origin}/v1/session`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect((await fetch(`${fx.origin}/`, { method: 'POST' })).status).toBe(404);
  });

  it('refuses a CONSOLE_DIR without a built console, by name', () => {
    const result = gatewayConfigSchema.safeParse({ ...baseEnv(), CONSOLE_DIR: tmpdir() });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(/CONSOLE_DIR/);
  });
});

function baseEnv() {
  return {
    DATABASE_URL: 'postgres://x@127.0.0.1/x',
    DATABASE_RELAY_URL: 'postgres://x_relay@127.0.0.1/x',
    DATABASE_SWEEPER_URL: 'postgres://x_sweeper@127.0.0.1/x',
    SERVICE_SIGNING_KEY: 'A'.repeat(43),
    SERVICE_SEALING_KEY: 'A'.repeat(43),
  };
}
