import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  SERVICES,
  startPlatformFixture,
  type PlatformFixture,
  type Service,
} from '../support/platform.js';

const EXIT_CONFIG = 78;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a service from its build with exactly `env`; `whenReady` runs once it logs "<service> ready". */
function runService(
  service: Service,
  env: Record<string, string>,
  whenReady?: (pid: number) => void,
  entry: 'main' | 'migrate' = 'main',
): Promise<Outcome> {
  const main = `${REPO_ROOT}services/${service}/dist/src/${entry}.js`;
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let readySeen = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    if (!readySeen && stdout.includes(`"msg":"${service} ready"`)) {
      readySeen = true;
      whenReady?.(child.pid!);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('service processes (built)', { timeout: 90_000 }, () => {
  let platform: PlatformFixture;

  beforeAll(async () => {
    for (const service of SERVICES) {
      await access(`${REPO_ROOT}services/${service}/dist/src/migrate.js`).catch(() => {
        throw new Error(
          `services/${service} is not built: run \`pnpm build\` (pnpm test does) before these tests`,
        );
      });
    }
    platform = await startPlatformFixture();
  });
  afterAll(() => platform?.stop());

  it.each(SERVICES)(
    '%s refuses to start without its required variables, naming each',
    async (service) => {
      const outcome = await runService(service, {});
      expect(outcome.code).toBe(EXIT_CONFIG);
      expect(outcome.stderr).toContain(`[${service}] invalid configuration:`);
      expect(outcome.stderr).toContain('DATABASE_URL: is required');
      if (service !== 'agent') expect(outcome.stderr).toContain('SERVICE_SIGNING_KEY: is required');
      expect(outcome.stdout).toBe('');
    },
  );

  it.each(SERVICES)('%s names a malformed variable without echoing its value', async (service) => {
    const secretish = 'not-a-key-but-could-be-a-secret-value';
    const outcome = await runService(service, {
      ...platform.env(service),
      NATS_URL: 'http://127.0.0.1:4222',
      LOG_LEVEL: 'loud',
      ...(service === 'agent' ? {} : { SERVICE_SIGNING_KEY: secretish }),
    });
    expect(outcome.code).toBe(EXIT_CONFIG);
    expect(outcome.stderr).toContain('NATS_URL: must be nats:// or tls:// URLs');
    expect(outcome.stderr).toContain('LOG_LEVEL:');
    if (service !== 'agent')
      expect(outcome.stderr).toContain('SERVICE_SIGNING_KEY: must be 32 bytes');
    expect(outcome.stderr).not.toContain(secretish);
  });

  it.each(SERVICES)('%s starts, then stops cleanly on SIGTERM', async (service) => {
    const outcome = await runService(service, platform.env(service), (pid) =>
      process.kill(pid, 'SIGTERM'),
    );
    expect(outcome.stdout).toContain(`"msg":"${service} ready"`);
    expect(outcome.stdout).toContain('"msg":"stopping"');
    expect(outcome.stdout).toContain('"msg":"stopped"');
    expect(outcome.code).toBe(0);
    // Nothing secret in what it logged on the way.
    const env = platform.env(service);
    for (const name of [
      'NATS_PASSWORD',
      'NATS_RELAY_PASSWORD',
      'SERVICE_SIGNING_KEY',
      'SERVICE_SEALING_KEY',
    ]) {
      if (env[name] !== undefined) expect(outcome.stdout).not.toContain(env[name]);
    }
    expect(outcome.stdout).not.toMatch(/postgres:\/\/[^"@]*:[^"@[]+@/);
  });

  it('exits with a failure status, and says why, when Postgres refuses it', async () => {
    const env = platform.env('agent', {
      DATABASE_URL: 'postgres://nobody:wrong@127.0.0.1:1/none',
    });
    const outcome = await runService('agent', env);
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toContain('"msg":"failed to start"');
    expect(outcome.stdout).not.toContain('wrong@');
  });

  it.each(SERVICES)(
    '%s never takes the owner’s credentials: not as a variable, not as its DATABASE_URL',
    async (service) => {
      const ownerUrl = platform.migrateEnv(service).DATABASE_MIGRATION_URL!;
      const password = decodeURIComponent(new URL(ownerUrl).password);
      const given = await runService(
        service,
        platform.env(service, { DATABASE_MIGRATION_URL: ownerUrl }),
      );
      expect(given.code).toBe(EXIT_CONFIG);
      expect(given.stderr).toContain('DATABASE_MIGRATION_URL: must not be given to a service');
      const asOwner = await runService(service, platform.env(service, { DATABASE_URL: ownerUrl }));
      expect(asOwner.code).toBe(1);
      expect(asOwner.stdout).toContain('"code":"UNSAFE_ROLE"');
      expect(asOwner.stdout).toContain('never as the owner');
      for (const outcome of [given, asOwner])
        expect(outcome.stdout + outcome.stderr).not.toContain(password);
    },
  );

  it.each(SERVICES)('%s’s migrate step names each missing variable', async (service) => {
    const outcome = await runService(service, {}, undefined, 'migrate');
    expect(outcome.code).toBe(EXIT_CONFIG);
    expect(outcome.stderr).toContain(`[${service} migrate] invalid configuration:`);
    expect(outcome.stderr).toContain('DATABASE_MIGRATION_URL: is required');
    expect(outcome.stderr).toContain('DATABASE_RUNTIME_ROLE: is required');
    if (service === 'gateway') {
      expect(outcome.stderr).toContain('DATABASE_RELAY_ROLE: is required');
      expect(outcome.stderr).toContain('DATABASE_SWEEPER_ROLE: is required');
    }
  });

  it('runs the migrate step as the owner only, and again finds nothing to do', async () => {
    const env = { ...platform.migrateEnv('gateway'), LOG_LEVEL: 'info' };
    const again = await runService('gateway', env, undefined, 'migrate');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('"msg":"schema already up to date"');
    // Its URL's user is the runtime role's: refused as configuration, before connecting.
    const asRuntime = await runService(
      'gateway',
      { ...env, DATABASE_MIGRATION_URL: platform.env('gateway').DATABASE_URL! },
      undefined,
      'migrate',
    );
    expect(asRuntime.code).toBe(EXIT_CONFIG);
    expect(asRuntime.stderr).toContain('DATABASE_RUNTIME_ROLE: must be a role of its own');
    // Another service's role, which does not own this schema: refused by the migration runner.
    const asOther = await runService(
      'gateway',
      { ...env, DATABASE_MIGRATION_URL: platform.env('vault-proxy').DATABASE_URL! },
      undefined,
      'migrate',
    );
    expect(asOther.code).toBe(1);
    expect(asOther.stdout).toContain('"msg":"migrations failed"');
    expect(asOther.stdout).toContain('"code":"INVALID_ROLE"');
    expect(asOther.stdout).not.toMatch(/postgres:\/\/[^"@]*:[^"@[]+@/);
  });

  it('vault-proxy refuses to start, saying why, without its key file or its Vault', async () => {
    const missingKeys = await runService(
      'vault-proxy',
      platform.env('vault-proxy', {
        HEROAGENT_ENV: 'production',
        // The test's own NATS and Postgres are plain: production refuses that unless it is meant.
        NATS_ALLOW_PLAINTEXT: 'true',
        DATABASE_ALLOW_PLAINTEXT: 'true',
        EMBEDDED_KEY_FILE: '/nonexistent/vault-proxy-keys.json',
      }),
    );
    expect(missingKeys.code).toBe(1);
    expect(missingKeys.stdout).toContain('"msg":"failed to start"');
    expect(missingKeys.stdout).toContain('cannot read the embedded key file');
    expect(missingKeys.stdout).toContain('"code":"UNAVAILABLE"');

    const vaultToken = 'hvs.test-token-that-must-not-be-logged';
    const noVault = await runService(
      'vault-proxy',
      platform.env('vault-proxy', {
        VAULT_ADDR: 'http://127.0.0.1:1',
        VAULT_TOKEN: vaultToken,
        VAULT_TIMEOUT_MS: '500',
      }),
    );
    expect(noVault.code).toBe(1);
    expect(noVault.stdout).toContain('"msg":"failed to start"');
    expect(noVault.stdout).toContain('"code":"UNAVAILABLE"');
    expect(noVault.stdout + noVault.stderr).not.toContain(vaultToken);
  });
});
