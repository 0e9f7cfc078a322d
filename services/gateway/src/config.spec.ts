import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from './config.js';

// Files that read as PEM: the configuration checks them readable, the listener reads them later.
const pemDir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
const pem = (name: string) => {
  const file = join(pemDir, name);
  writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');
  return file;
};
const certFile = pem('server.crt');
const keyFile = pem('server.key');
const caFile = pem('ca.crt');
/** Production's TLS on every hop: HTTPS, NATS and Postgres verified. */
const productionTls = {
  HTTP_TLS_CERT_FILE: certFile,
  HTTP_TLS_KEY_FILE: keyFile,
  NATS_URL: 'tls://nats.heroagent.internal:4222',
  NATS_TLS_CA_FILE: caFile,
  DATABASE_TLS_CA_FILE: caFile,
};
/** Plain hops, each said to be meant. */
const productionPlain = {
  HTTP_BEHIND_TLS_PROXY: 'true',
  NATS_ALLOW_PLAINTEXT: 'true',
  DATABASE_ALLOW_PLAINTEXT: 'true',
};

const key = () => randomBytes(32).toString('base64url');
const base = {
  DATABASE_URL: 'postgres://gateway@127.0.0.1/heroagent',
  DATABASE_RELAY_URL: 'postgres://gateway_relay@127.0.0.1/heroagent',
  DATABASE_SWEEPER_URL: 'postgres://gateway_sweeper@127.0.0.1/heroagent',
  NATS_URL: 'nats://127.0.0.1:4222',
  SERVICE_SIGNING_KEY: key(),
  SERVICE_SEALING_KEY: key(),
};

function issues(env: Record<string, string>): string[] {
  const parsed = gatewayConfigSchema.safeParse({ ...base, ...env });
  return parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('gateway configuration', () => {
  it('has safe defaults: secure cookies, sessions of 30 minutes idle and 12 hours at most', () => {
    const config = gatewayConfigSchema.parse({ ...base, HEROAGENT_ENV: 'test' });
    expect(config.http.secureCookies).toBe(true);
    expect(config.sessions).toEqual({ idleTimeoutMs: 1_800_000, absoluteTimeoutMs: 43_200_000 });
    expect(config.signUp).toEqual({ mode: 'open', emailDomains: [], bootstrapEmails: [] });
    expect(config.google).toBeUndefined();
    expect(config.oidc).toBeUndefined();
  });

  it('turns Secure off only for development over plain HTTP', () => {
    const dev = gatewayConfigSchema.parse({ ...base, HEROAGENT_ENV: 'development' });
    expect(dev.http.secureCookies).toBe(false);
    const devTls = gatewayConfigSchema.parse({
      ...base,
      HEROAGENT_ENV: 'development',
      PUBLIC_URL: 'https://heroagent.localhost',
    });
    expect(devTls.http.secureCookies).toBe(true);
  });

  it('requires an https PUBLIC_URL in production', () => {
    expect(issues({ HEROAGENT_ENV: 'production' })).toContain(
      'PUBLIC_URL: is required in production',
    );
    expect(
      issues({ HEROAGENT_ENV: 'production', PUBLIC_URL: 'http://heroagent.example' }),
    ).toContain('PUBLIC_URL: must be https in production');
    expect(
      issues({
        HEROAGENT_ENV: 'production',
        PUBLIC_URL: 'https://heroagent.example',
        NATS_RELAY_USER: 'gateway-relay',
        NATS_RELAY_PASSWORD: 'relay-password',
        ...productionTls,
      }),
    ).toEqual([]);
  });

  it('gives the audit outbox relay a NATS user of its own wherever NATS has users', () => {
    const relay = { NATS_RELAY_USER: 'gateway-relay', NATS_RELAY_PASSWORD: 'relay-password' };
    const withUsers = { NATS_USER: 'gateway', NATS_PASSWORD: 'gateway-password' };
    const config = gatewayConfigSchema.parse({ ...base, ...withUsers, ...relay });
    expect(config.nats).toMatchObject({ NATS_USER: 'gateway', NATS_PASSWORD: 'gateway-password' });
    expect(config.relayNats).toMatchObject({
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_USER: 'gateway-relay',
      NATS_PASSWORD: 'relay-password',
    });
    expect(issues(withUsers)).toEqual([
      'NATS_RELAY_USER: is required with NATS_USER (the outbox relay publishes audit events under its own user)',
    ]);
    expect(
      issues({
        HEROAGENT_ENV: 'production',
        PUBLIC_URL: 'https://heroagent.example',
        ...productionPlain,
      }),
    ).toEqual([
      'NATS_RELAY_USER: is required in production (the outbox relay publishes audit events under its own user), or NATS_RELAY_NKEY_SEED_FILE',
    ]);
    expect(issues({ ...withUsers, NATS_RELAY_USER: 'gateway-relay' })).toEqual([
      'NATS_RELAY_PASSWORD: is required with NATS_RELAY_USER',
    ]);
    expect(issues({ ...withUsers, ...relay, NATS_RELAY_USER: 'gateway' })).toEqual([
      'NATS_RELAY_USER: must not be NATS_USER: the relay has a user of its own',
    ]);
    // Development against a NATS without users: the relay connects as the gateway does.
    const open = gatewayConfigSchema.parse(base);
    expect(open.relayNats).toEqual(open.nats);
  });

  it('gives the relay an nkey of its own when the gateway connects with one', () => {
    const seedFile = (name: string) => {
      const file = join(pemDir, name);
      writeFileSync(file, `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`);
      return file;
    };
    const gatewaySeed = seedFile('gateway.nk');
    const relaySeed = seedFile('gateway-relay.nk');
    const config = gatewayConfigSchema.parse({
      ...base,
      NATS_NKEY_SEED_FILE: gatewaySeed,
      NATS_RELAY_NKEY_SEED_FILE: relaySeed,
    });
    expect(config.nats.NATS_NKEY_SEED_FILE).toBe(gatewaySeed);
    expect(config.relayNats).toMatchObject({
      NATS_USER: undefined,
      NATS_PASSWORD: undefined,
      NATS_NKEY_SEED_FILE: relaySeed,
    });
    expect(issues({ NATS_NKEY_SEED_FILE: gatewaySeed })).toEqual([
      'NATS_RELAY_NKEY_SEED_FILE: is required with NATS_NKEY_SEED_FILE (the outbox relay publishes audit events under its own nkey)',
    ]);
    const copy = join(pemDir, 'copy.nk');
    writeFileSync(copy, readFileSync(gatewaySeed));
    expect(issues({ NATS_NKEY_SEED_FILE: gatewaySeed, NATS_RELAY_NKEY_SEED_FILE: copy })).toEqual([
      "NATS_RELAY_NKEY_SEED_FILE: must not be NATS_NKEY_SEED_FILE's nkey: the relay has a user of its own",
    ]);
    expect(
      issues({
        NATS_NKEY_SEED_FILE: gatewaySeed,
        NATS_RELAY_NKEY_SEED_FILE: relaySeed,
        NATS_RELAY_USER: 'gateway-relay',
        NATS_RELAY_PASSWORD: 'relay-password',
      }),
    ).toEqual([
      'NATS_RELAY_NKEY_SEED_FILE: must not be set with NATS_RELAY_USER/NATS_RELAY_PASSWORD: the relay authenticates with a password or an nkey, not both',
    ]);
  });

  it("takes Google's client id without a secret, refuses the secret, and wants the OIDC settings together", () => {
    expect(issues({ OAUTH_GOOGLE_CLIENT_ID: 'id' })).toEqual([]);
    expect(
      issues({ OAUTH_GOOGLE_CLIENT_ID: 'id', OAUTH_GOOGLE_CLIENT_SECRET: 'GOCSPX-x' }),
    ).toEqual([
      "OAUTH_GOOGLE_CLIENT_SECRET: is vault-proxy's alone (it exchanges Google's codes): remove it from the gateway",
    ]);
    expect(issues({ OIDC_ISSUER: 'https://sso.example' })).toContain(
      'OIDC_CLIENT_ID: OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET go together',
    );
    expect(
      issues({ OIDC_ISSUER: 'ftp://sso.example', OIDC_CLIENT_ID: 'a', OIDC_CLIENT_SECRET: 'b' }),
    ).toHaveLength(1);
  });

  it('refuses an idle timeout longer than the absolute one, and out-of-range numbers', () => {
    expect(issues({ SESSION_IDLE_TIMEOUT_S: '7200', SESSION_ABSOLUTE_TIMEOUT_S: '3600' })).toEqual([
      'SESSION_IDLE_TIMEOUT_S: must not exceed SESSION_ABSOLUTE_TIMEOUT_S',
    ]);
    expect(issues({ HTTP_RATE_LIMIT_PER_MINUTE: '0' })).toHaveLength(1);
    expect(issues({ HTTP_TRUST_PROXY_HOPS: 'all' })).toHaveLength(1);
    expect(issues({ SIGN_UP: 'closed' })).toHaveLength(1);
  });

  it('reads the merchants purchases go through, refusing malformed ones', () => {
    expect(issues({ MERCHANTS: 'not json' })).toEqual([
      'MERCHANTS: must be a JSON array of merchants',
    ]);
    expect(
      issues({ MERCHANTS: JSON.stringify([{ id: 'Books!', url: 'http://x', apiKey: 'k' }]) })
        .length,
    ).toBeGreaterThan(0);
    const config = gatewayConfigSchema.parse({
      ...base,
      MERCHANTS: JSON.stringify([
        { id: 'books', url: 'https://books.example', apiKey: 'sk_live_12345678' },
      ]),
    });
    expect(config.merchants).toEqual([
      { id: 'books', url: 'https://books.example', apiKey: 'sk_live_12345678' },
    ]);
  });

  it('connects its relay and sweepers as roles of their own, and never takes the owner’s URL', () => {
    const config = gatewayConfigSchema.parse(base);
    expect(config.jobDatabases).toEqual({
      relay: base.DATABASE_RELAY_URL,
      sweeper: base.DATABASE_SWEEPER_URL,
    });
    expect(config.database).toEqual({ DATABASE_URL: base.DATABASE_URL });
    const { DATABASE_RELAY_URL: _, ...withoutRelay } = base;
    expect(gatewayConfigSchema.safeParse(withoutRelay).success).toBe(false);
    expect(issues({ DATABASE_SWEEPER_URL: 'mysql://x@127.0.0.1/heroagent' })).toHaveLength(1);
    expect(issues({ DATABASE_RELAY_URL: base.DATABASE_URL })).toEqual([
      "DATABASE_RELAY_URL: must connect as a role of its own, not DATABASE_URL's",
    ]);
    expect(issues({ DATABASE_SWEEPER_URL: 'postgres://gateway_relay:x@127.0.0.1/h' })).toEqual([
      "DATABASE_SWEEPER_URL: must connect as a role of its own, not DATABASE_RELAY_URL's",
    ]);
    expect(issues({ DATABASE_SWEEPER_URL: 'postgres://127.0.0.1/heroagent' })).toEqual([
      'DATABASE_SWEEPER_URL: must name its role as the user',
    ]);
    expect(
      issues({ DATABASE_MIGRATION_URL: 'postgres://gateway_owner:secret@127.0.0.1/heroagent' }),
    ).toEqual([
      'DATABASE_MIGRATION_URL: must not be given to a service: migrations run in their own step (`node services/<service>/dist/src/migrate.js`), the only one given the owner’s URL',
    ]);
  });

  it('reads the sign-up domains list', () => {
    const config = gatewayConfigSchema.parse({
      ...base,
      SIGN_UP_EMAIL_DOMAINS: ' Example.com, ,corp.example ',
    });
    expect(config.signUp.emailDomains).toEqual(['example.com', 'corp.example']);
  });

  describe('TLS on the listener and the hops', () => {
    it('serves HTTPS with a certificate and key: Secure cookies and an https origin even in development', () => {
      const config = gatewayConfigSchema.parse({
        ...base,
        HEROAGENT_ENV: 'development',
        HTTP_TLS_CERT_FILE: certFile,
        HTTP_TLS_KEY_FILE: keyFile,
      });
      expect(config.http.tls).toEqual({ certFile, keyFile });
      expect(config.http.secureCookies).toBe(true);
      const plain = gatewayConfigSchema.parse({ ...base, HEROAGENT_ENV: 'development' });
      expect(plain.http.tls).toBeUndefined();
      expect(plain.http.behindTlsProxy).toBe(false);
    });

    it('names a certificate without its key, an unreadable file, and a proxy said to be in front of HTTPS', () => {
      expect(issues({ HTTP_TLS_CERT_FILE: certFile })).toEqual([
        'HTTP_TLS_KEY_FILE: is required with HTTP_TLS_CERT_FILE',
      ]);
      expect(
        issues({ HTTP_TLS_CERT_FILE: '/nonexistent/server.crt', HTTP_TLS_KEY_FILE: keyFile }),
      ).toEqual(['HTTP_TLS_CERT_FILE: must be a readable PEM file']);
      expect(
        issues({
          HTTP_TLS_CERT_FILE: certFile,
          HTTP_TLS_KEY_FILE: keyFile,
          HTTP_BEHIND_TLS_PROXY: 'true',
        }),
      ).toEqual([
        'HTTP_BEHIND_TLS_PROXY: must not be true with HTTP_TLS_CERT_FILE: serve HTTPS, or plain HTTP behind a proxy',
      ]);
    });

    it('refuses plain HTTP, NATS and Postgres in production unless each is said to be meant', () => {
      const production = {
        HEROAGENT_ENV: 'production',
        PUBLIC_URL: 'https://heroagent.example',
        NATS_RELAY_USER: 'gateway-relay',
        NATS_RELAY_PASSWORD: 'relay-password',
      };
      expect(issues(production)).toEqual([
        'NATS_URL: must use TLS in production (tls:// with NATS_TLS_CA_FILE), or NATS_ALLOW_PLAINTEXT=true if plain NATS is meant',
        'DATABASE_TLS_CA_FILE: is required in production (Postgres over verified TLS), or DATABASE_ALLOW_PLAINTEXT=true if plain Postgres is meant',
        'HTTP_TLS_CERT_FILE: is required in production (with HTTP_TLS_KEY_FILE), or HTTP_BEHIND_TLS_PROXY=true when a proxy in front terminates TLS',
      ]);
      expect(issues({ ...production, ...productionPlain })).toEqual([]);
    });

    it('refuses ssl parameters in any of its Postgres URLs: TLS comes from DATABASE_TLS_CA_FILE', () => {
      expect(
        issues({
          DATABASE_SWEEPER_URL:
            'postgres://gateway_sweeper@127.0.0.1/heroagent?sslmode=require&sslrootcert=/x',
        }),
      ).toEqual([
        'DATABASE_SWEEPER_URL: must not carry sslmode, sslrootcert: TLS to Postgres is set by DATABASE_TLS_CA_FILE (verify-full, TLS 1.3)',
      ]);
    });
  });
});
