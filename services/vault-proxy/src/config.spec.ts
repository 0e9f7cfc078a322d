import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vaultProxyConfigSchema } from './config.js';

const key = () => randomBytes(32).toString('base64url');
const caFile = join(mkdtempSync(join(tmpdir(), 'vault-proxy-config-')), 'vault-ca.pem');
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');

const base = {
  DATABASE_URL: 'postgres://vault_proxy@127.0.0.1/heroagent',
  SERVICE_SIGNING_KEY: key(),
  GATEWAY_VERIFY_KEYS: JSON.stringify([{ kid: 'gateway-1', publicKey: key() }]),
  GATEWAY_SEALING_PUBLIC_KEY: key(),
  VAULT_TOKEN: 'hvs.test',
};
/** Production with NATS and Postgres over TLS, so only Vault's settings are in question. */
const production = {
  HEROAGENT_ENV: 'production',
  NATS_URL: 'tls://nats.internal:4222',
  NATS_TLS_CA_FILE: caFile,
  DATABASE_TLS_CA_FILE: caFile,
};

function issues(env: Record<string, string>): string[] {
  const parsed = vaultProxyConfigSchema.safeParse({ ...base, ...env });
  return parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('vault-proxy’s Vault settings', () => {
  it('verifies an https Vault against VAULT_CACERT', () => {
    const config = vaultProxyConfigSchema.parse({
      ...base,
      ...production,
      VAULT_ADDR: 'https://vault.internal:8200',
      VAULT_CACERT: caFile,
    });
    expect(config.secrets).toMatchObject({
      backend: 'vault',
      vault: { address: 'https://vault.internal:8200', caFile },
    });
  });

  it('refuses an http:// Vault in production unless VAULT_ALLOW_HTTP says it is meant', () => {
    expect(issues({ ...production, VAULT_ADDR: 'http://vault.internal:8200' })).toEqual([
      'VAULT_ADDR: must be https in production (verified with VAULT_CACERT), or VAULT_ALLOW_HTTP=true if plain HTTP is meant',
    ]);
    expect(
      issues({ ...production, VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_ALLOW_HTTP: 'true' }),
    ).toEqual([]);
    // Development and tests may use a plain Vault (the double).
    expect(issues({ VAULT_ADDR: 'http://127.0.0.1:8200' })).toEqual([]);
  });

  it('names an unreadable VAULT_CACERT and an address that is not a URL', () => {
    expect(
      issues({ VAULT_ADDR: 'https://vault.internal:8200', VAULT_CACERT: '/nonexistent/ca.pem' }),
    ).toEqual(['VAULT_CACERT: must be a readable PEM file']);
    expect(issues({ VAULT_ADDR: 'vault.internal:8200' })).toEqual([
      expect.stringMatching(/^VAULT_ADDR: /),
    ]);
  });
});

describe('vault-proxy’s OAuth and revocation settings', () => {
  it('reads the revocation pacing, and refuses a backoff whose ceiling is under its first delay', () => {
    const config = vaultProxyConfigSchema.parse({
      ...base,
      VAULT_ADDR: 'http://127.0.0.1:8200',
      REVOCATION_RETRY_BASE_MS: '2000',
      REVOCATION_RETRY_MAX_MS: '60000',
    });
    // The lease, by default, outlasts one attempt: the lock wait, the provider call, 30 s more.
    expect(config.revocations).toEqual({
      pollMs: 10_000,
      retryBaseMs: 2000,
      retryMaxMs: 60_000,
      leaseMs: 25_000 + 10_000 + 30_000,
    });
    expect(
      vaultProxyConfigSchema.parse({
        ...base,
        VAULT_ADDR: 'http://127.0.0.1:8200',
        REVOCATION_LEASE_MS: '5000',
      }).revocations.leaseMs,
    ).toBe(5000);
    expect(
      issues({
        VAULT_ADDR: 'http://127.0.0.1:8200',
        REVOCATION_RETRY_BASE_MS: '60000',
        REVOCATION_RETRY_MAX_MS: '2000',
      }),
    ).toEqual(['REVOCATION_RETRY_MAX_MS: must not be less than REVOCATION_RETRY_BASE_MS']);
    expect(issues({ VAULT_ADDR: 'http://127.0.0.1:8200', REVOCATION_POLL_MS: '0' })).toEqual([
      expect.stringMatching(/^REVOCATION_POLL_MS: /),
    ]);
    expect(issues({ VAULT_ADDR: 'http://127.0.0.1:8200', REVOCATION_LEASE_MS: '10' })).toEqual([
      expect.stringMatching(/^REVOCATION_LEASE_MS: /),
    ]);
  });

  it("accepts Google's two spellings of its issuer, and only the configured one otherwise", () => {
    const google = vaultProxyConfigSchema.parse({ ...base, VAULT_ADDR: 'http://127.0.0.1:8200' });
    expect(google.providers.google.issuers).toEqual([
      'https://accounts.google.com',
      'accounts.google.com',
    ]);
    const double = vaultProxyConfigSchema.parse({
      ...base,
      VAULT_ADDR: 'http://127.0.0.1:8200',
      OAUTH_GOOGLE_ISSUER: 'http://127.0.0.1:9000',
    });
    expect(double.providers.google.issuers).toEqual(['http://127.0.0.1:9000']);
  });
});
