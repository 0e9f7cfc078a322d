import { describe, expect, it } from 'vitest';
import { commonEnvSchema, migrateConfigSchema, parseConfig } from './config.js';
import { configProblems } from './testing/config-problems.js';

const problemsOf = configProblems;

describe('a service’s database settings', () => {
  it('takes the runtime URL only, and refuses the owner’s without echoing it', () => {
    expect(
      parseConfig(commonEnvSchema, { DATABASE_URL: 'postgres://app@127.0.0.1/h' }).DATABASE_URL,
    ).toBe('postgres://app@127.0.0.1/h');
    const problems = problemsOf(() =>
      parseConfig(commonEnvSchema, {
        DATABASE_URL: 'postgres://app@127.0.0.1/h',
        DATABASE_MIGRATION_URL: 'postgres://owner:hunter2-secret@127.0.0.1/h',
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^DATABASE_MIGRATION_URL: must not be given to a service/),
    ]);
    expect(problems.join()).not.toContain('hunter2');
    // Set but empty (a template that blanks it) is as good as absent.
    expect(() =>
      parseConfig(commonEnvSchema, {
        DATABASE_URL: 'postgres://app@127.0.0.1/h',
        DATABASE_MIGRATION_URL: '',
      }),
    ).not.toThrow();
  });
});

describe('the migrate step’s settings', () => {
  const schema = migrateConfigSchema({ schema: 'gateway', jobs: ['relay', 'sweeper'] });
  const env = {
    DATABASE_MIGRATION_URL: 'postgres://ha_gateway_owner:pw@127.0.0.1/heroagent',
    DATABASE_RUNTIME_ROLE: 'ha_gateway',
    DATABASE_RELAY_ROLE: 'ha_gateway_relay',
    DATABASE_SWEEPER_ROLE: 'ha_gateway_sweeper',
  };

  it('reads the owner URL and the role names the migrations grant to', () => {
    expect(parseConfig(schema, env)).toEqual({
      ownerUrl: env.DATABASE_MIGRATION_URL,
      schema: 'gateway',
      roles: { runtime: 'ha_gateway', relay: 'ha_gateway_relay', sweeper: 'ha_gateway_sweeper' },
      telemetry: {
        HEROAGENT_ENV: 'development',
        LOG_LEVEL: 'info',
        OTEL_METRIC_EXPORT_INTERVAL: 60_000,
      },
    });
  });

  it('reads the OTLP endpoints of each signal, and refuses what is not an HTTP(S) URL', () => {
    const endpoints = {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector:4318/v1/traces',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://collector:4318/v1/logs',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://collector:4318/v1/metrics',
    };
    expect(
      parseConfig(schema, { ...env, ...endpoints, OTEL_METRIC_EXPORT_INTERVAL: '15000' }).telemetry,
    ).toEqual({
      HEROAGENT_ENV: 'development',
      LOG_LEVEL: 'info',
      ...endpoints,
      OTEL_METRIC_EXPORT_INTERVAL: 15_000,
    });
    expect(
      problemsOf(() =>
        parseConfig(schema, {
          ...env,
          OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'collector:4318',
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'file:///tmp/metrics',
          OTEL_METRIC_EXPORT_INTERVAL: '10',
        }),
      ).map((problem) => problem.split(':')[0]),
    ).toEqual([
      'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
      'OTEL_METRIC_EXPORT_INTERVAL',
    ]);
  });

  it('names each bad or missing variable', () => {
    expect(problemsOf(() => parseConfig(schema, {}))).toEqual([
      'DATABASE_MIGRATION_URL: is required',
      'DATABASE_RUNTIME_ROLE: is required',
      'DATABASE_RELAY_ROLE: is required',
      'DATABASE_SWEEPER_ROLE: is required',
    ]);
    expect(
      problemsOf(() =>
        parseConfig(schema, {
          ...env,
          DATABASE_MIGRATION_URL: 'http://127.0.0.1',
          DATABASE_RELAY_ROLE: 'Relay; drop role x',
          DATABASE_SCHEMA: 'Gateway',
        }),
      ),
    ).toEqual([
      'DATABASE_MIGRATION_URL: must be a postgres:// or postgresql:// URL',
      'DATABASE_SCHEMA: must be a lower-case SQL identifier',
      'DATABASE_RELAY_ROLE: must be a lower-case SQL role name',
    ]);
    expect(
      problemsOf(() =>
        parseConfig(schema, { ...env, DATABASE_MIGRATION_URL: 'postgres://127.0.0.1/heroagent' }),
      ),
    ).toEqual(['DATABASE_MIGRATION_URL: must name the schema owner as its user']);
  });

  it('refuses a role named for two purposes, or the owner as one of them', () => {
    expect(
      problemsOf(() => parseConfig(schema, { ...env, DATABASE_SWEEPER_ROLE: 'ha_gateway_relay' })),
    ).toEqual([
      'DATABASE_SWEEPER_ROLE: must be a role of its own (not the owner’s, nor another’s)',
    ]);
    expect(
      problemsOf(() => parseConfig(schema, { ...env, DATABASE_RUNTIME_ROLE: 'ha_gateway_owner' })),
    ).toEqual([
      'DATABASE_RUNTIME_ROLE: must be a role of its own (not the owner’s, nor another’s)',
    ]);
  });
});
