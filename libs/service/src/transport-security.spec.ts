import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkTransportSecurity,
  commonEnvSchema,
  ConfigError,
  migrateConfigSchema,
  natsEnvSchema,
  parseConfig,
} from './config.js';
import { natsConnectionOptions } from './nats/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'transport-security-'));
const pem = (name: string) => {
  const file = join(dir, name);
  writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');
  return file;
};
const ca = pem('ca.crt');
const cert = pem('client.crt');
const key = pem('client.key');

const schema = commonEnvSchema.superRefine((env, context) => checkTransportSecurity(env, context));
const base = { DATABASE_URL: 'postgres://app@db.internal/heroagent' };
const problems = (env: Record<string, string>): readonly string[] => {
  try {
    parseConfig(schema, { ...base, ...env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('TLS to NATS', () => {
  it('verifies the server against the named CA, at TLS 1.3 at least, presenting a client certificate when given', () => {
    const config = parseConfig(natsEnvSchema, {
      NATS_URL: 'tls://nats.internal:4222',
      NATS_TLS_CA_FILE: ca,
      NATS_TLS_CERT_FILE: cert,
      NATS_TLS_KEY_FILE: key,
    });
    expect(natsConnectionOptions(config, 'gateway').tls).toEqual({
      minVersion: 'TLSv1.3',
      rejectUnauthorized: true,
      caFile: ca,
      certFile: cert,
      keyFile: key,
    });
    // A CA alone turns TLS on for nats:// servers too (the client then refuses a server without it).
    const caOnly = parseConfig(natsEnvSchema, { NATS_URL: 'nats://a:4222', NATS_TLS_CA_FILE: ca });
    expect(natsConnectionOptions(caOnly, 'agent').tls).toMatchObject({ caFile: ca });
    expect(natsConnectionOptions(parseConfig(natsEnvSchema, {}), 'agent')).not.toHaveProperty(
      'tls',
    );
  });

  it('refuses a tls:// server without a CA, unless the system’s trust store is meant', () => {
    expect(problems({ NATS_URL: 'tls://nats.internal:4222' })).toEqual([
      expect.stringMatching(/^NATS_TLS_CA_FILE: is required for TLS to NATS/),
    ]);
    expect(problems({ NATS_URL: 'tls://nats.internal:4222', NATS_TLS_SYSTEM_CA: 'true' })).toEqual(
      [],
    );
    expect(
      natsConnectionOptions(
        parseConfig(natsEnvSchema, { NATS_URL: 'tls://n:4222', NATS_TLS_SYSTEM_CA: 'true' }),
        'audit',
      ).tls,
    ).toEqual({ minVersion: 'TLSv1.3', rejectUnauthorized: true });
    expect(problems({ NATS_TLS_CA_FILE: ca, NATS_TLS_SYSTEM_CA: 'true' })).toEqual([
      'NATS_TLS_SYSTEM_CA: must not be true with NATS_TLS_CA_FILE: trust one or the other',
    ]);
  });

  it('names a certificate without its key, and a file that is not there, without its path', () => {
    expect(problems({ NATS_TLS_CA_FILE: ca, NATS_TLS_CERT_FILE: cert })).toEqual([
      'NATS_TLS_KEY_FILE: is required with NATS_TLS_CERT_FILE',
    ]);
    const missing = problems({ NATS_TLS_CA_FILE: '/nonexistent/secret-ca.pem' });
    expect(missing).toEqual(['NATS_TLS_CA_FILE: must be a readable PEM file']);
    expect(missing.join()).not.toContain('secret-ca');
  });

  it('refuses plain NATS in production unless NATS_ALLOW_PLAINTEXT says it is meant', () => {
    const production = { HEROAGENT_ENV: 'production', DATABASE_TLS_CA_FILE: ca };
    expect(problems(production)).toEqual([
      expect.stringMatching(/^NATS_URL: must use TLS in production/),
    ]);
    expect(problems({ ...production, NATS_ALLOW_PLAINTEXT: 'true' })).toEqual([]);
    expect(problems({ ...production, NATS_URL: 'tls://n:4222', NATS_TLS_CA_FILE: ca })).toEqual([]);
    expect(
      problems({ NATS_URL: 'tls://n:4222', NATS_TLS_CA_FILE: ca, NATS_ALLOW_PLAINTEXT: 'true' }),
    ).toEqual(['NATS_ALLOW_PLAINTEXT: must not be true when NATS uses TLS']);
  });
});

describe('TLS to Postgres', () => {
  it('takes its CA from DATABASE_TLS_CA_FILE, and refuses a URL’s own ssl parameters', () => {
    expect(parseConfig(schema, { ...base, DATABASE_TLS_CA_FILE: ca }).DATABASE_TLS_CA_FILE).toBe(
      ca,
    );
    expect(
      problems({ DATABASE_URL: 'postgres://app@db/h?sslmode=verify-full&sslrootcert=/ca.pem' }),
    ).toEqual([
      'DATABASE_URL: must not carry sslmode, sslrootcert: TLS to Postgres is set by DATABASE_TLS_CA_FILE (verify-full, TLS 1.3)',
    ]);
  });

  it('refuses plain Postgres in production unless DATABASE_ALLOW_PLAINTEXT says it is meant', () => {
    const production = { HEROAGENT_ENV: 'production', NATS_ALLOW_PLAINTEXT: 'true' };
    expect(problems(production)).toEqual([
      expect.stringMatching(/^DATABASE_TLS_CA_FILE: is required in production/),
    ]);
    expect(problems({ ...production, DATABASE_ALLOW_PLAINTEXT: 'true' })).toEqual([]);
  });

  it('gives the migrate step the same rules and its CA', () => {
    const migrate = migrateConfigSchema({ schema: 'agent', jobs: [] });
    const env = {
      DATABASE_MIGRATION_URL: 'postgres://ha_agent_owner:pw@db/heroagent',
      DATABASE_RUNTIME_ROLE: 'ha_agent',
    };
    expect(parseConfig(migrate, { ...env, DATABASE_TLS_CA_FILE: ca }).tlsCaFile).toBe(ca);
    expect(() =>
      parseConfig(migrate, {
        ...env,
        DATABASE_MIGRATION_URL: `${env.DATABASE_MIGRATION_URL}?sslmode=require`,
      }),
    ).toThrow(/DATABASE_MIGRATION_URL: must not carry sslmode/);
    expect(() => parseConfig(migrate, { ...env, HEROAGENT_ENV: 'production' })).toThrow(
      /DATABASE_TLS_CA_FILE: is required in production/,
    );
  });
});
