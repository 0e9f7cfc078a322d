import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import {
  createTestDatabase,
  type ProvisionedService,
  type TestDatabase,
} from '@heroagent/db/testing';
import { createLogger } from '@heroagent/telemetry';
import { migrations } from '../migrations/index.js';
import { EmbeddedSecretsBackend } from '../src/secrets/embedded/embedded-secrets-backend.js';
import { createKeyFile, loadKeyFile, rotateKeyFile } from '../src/secrets/embedded/key-file.js';
import type { VaultProxyDatabase } from '../src/store-tables.js';
import { secretsBackendContract } from './secrets-backend.contract.js';

describe('the embedded secrets store (real Postgres, local key file)', () => {
  let database: TestDatabase;
  let service: ProvisionedService;
  let dir: string;
  let db: Kysely<VaultProxyDatabase>;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await database.provisionService('vault_proxy');
    await service.migrate(migrations);
    db = createDatabase<VaultProxyDatabase>({
      connectionString: service.runtimeUrl,
      schema: 'vault_proxy',
      applicationName: 'test',
    });
    dir = await mkdtemp(join(tmpdir(), 'embedded-keys-'));
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  secretsBackendContract('embedded store', async () => {
    const file = join(dir, `keys-${randomUUID()}.json`);
    await createKeyFile(file);
    const backend = new EmbeddedSecretsBackend(db, await loadKeyFile(file));
    return { backend, teardown: () => backend.close() };
  });

  it('creates its key file owner-readable only, and never overwrites one', async () => {
    const file = join(dir, 'fresh.json');
    expect(await createKeyFile(file)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await createKeyFile(file)).toBe(false);
  });

  it('stores refresh tokens encrypted, bound to their row', async () => {
    const file = join(dir, 'bound.json');
    await createKeyFile(file);
    const backend = new EmbeddedSecretsBackend(db, await loadKeyFile(file));
    const tenantId = randomUUID();
    const ref = { tenantId, connectionId: randomUUID() };
    await backend.putRefreshToken(ref, '1//very-secret-refresh-token');
    const admin = createDatabase<unknown>({
      connectionString: database.adminUrl,
      applicationName: 'test',
    });
    try {
      const { rows } = await sql<{
        ciphertext: string;
      }>`select ciphertext from vault_proxy.embedded_secrets where tenant_id = ${tenantId}`.execute(
        admin,
      );
      expect(rows[0]!.ciphertext).toMatch(/^hae1\.1\./);
      expect(rows[0]!.ciphertext).not.toContain('very-secret');
      // Moved to another connection's row, it does not decrypt.
      const other = { tenantId, connectionId: randomUUID() };
      await sql`insert into vault_proxy.embedded_secrets (tenant_id, connection_id, version, ciphertext)
                values (${tenantId}, ${other.connectionId}, 1, ${rows[0]!.ciphertext})`.execute(
        admin,
      );
      await expect(backend.getRefreshToken(other)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      await admin.destroy();
    }
  });

  it('rotates its master key and rewraps everything to the new version at start', async () => {
    const file = join(dir, 'rotating.json');
    await createKeyFile(file);
    const first = new EmbeddedSecretsBackend(db, await loadKeyFile(file));
    const tenantId = randomUUID();
    const ref = { tenantId, connectionId: randomUUID() };
    await first.putRefreshToken(ref, '1//before-rotation');
    const owner = { tenantId, scope: 'tenant' as const, id: tenantId };
    const key = await first.createDataKey(owner);
    expect(await rotateKeyFile(file)).toBe(2);
    const second = new EmbeddedSecretsBackend(db, await loadKeyFile(file));
    expect(await second.getRefreshToken(ref)).toBe('1//before-rotation');
    await second.start(createLogger({ service: 'vault-proxy', level: 'silent' }));
    const admin = createDatabase<unknown>({
      connectionString: database.adminUrl,
      applicationName: 'test',
    });
    try {
      const secrets = await sql<{
        c: string;
      }>`select ciphertext as c from vault_proxy.embedded_secrets where tenant_id = ${tenantId}`.execute(
        admin,
      );
      const keys = await sql<{
        c: string;
      }>`select key_ciphertext as c from vault_proxy.embedded_keys where tenant_id = ${tenantId}`.execute(
        admin,
      );
      for (const row of [...secrets.rows, ...keys.rows]) expect(row.c).toMatch(/^hae1\.2\./);
    } finally {
      await admin.destroy();
    }
    expect(await second.getRefreshToken(ref)).toBe('1//before-rotation');
    expect(await second.openDataKey(owner, key.wrapped)).toEqual(key.plaintext);
  });

  it('says loudly at boot that it is not Vault, and reports values its key file cannot open', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ service: 'vault-proxy', level: 'info', destination });
    const tenantId = randomUUID();
    const foreign = join(dir, 'foreign.json');
    await createKeyFile(foreign);
    const other = new EmbeddedSecretsBackend(db, await loadKeyFile(foreign));
    await other.putRefreshToken({ tenantId, connectionId: randomUUID() }, '1//other-key-file');

    const file = join(dir, 'boot.json');
    await createKeyFile(file);
    const backend = new EmbeddedSecretsBackend(db, await loadKeyFile(file));
    await backend.start(logger);
    const warning = lines.find((line) => line['code'] === 'EMBEDDED_SECRETS_NOT_VAULT');
    expect(warning).toMatchObject({ level: 'warn' });
    expect(String(warning!['msg'])).toMatch(/NOT IN VAULT/);
    expect(lines.find((line) => line['code'] === 'EMBEDDED_SECRETS_UNREADABLE')).toMatchObject({
      level: 'error',
    });
    expect(backend.unreadable).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain('1//other-key-file');
  });

  it('refuses a missing or damaged key file with a clear code', async () => {
    await expect(loadKeyFile(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'damaged.json'), '{"format":"nope"}');
    await expect(loadKeyFile(join(dir, 'damaged.json'))).rejects.toMatchObject({ code: 'INVALID' });
  });
});
