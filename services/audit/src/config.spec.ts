import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '@heroagent/service';
import { configProblems } from '@heroagent/service/testing';
import { auditConfigSchema } from './config.js';

const key = () => randomBytes(32).toString('base64url');
const base = {
  HEROAGENT_ENV: 'test',
  DATABASE_URL: 'postgres://audit@127.0.0.1/heroagent',
  NATS_URL: 'nats://127.0.0.1:4222',
  SERVICE_SIGNING_KEY: key(),
  AUDIT_SECRETS_KEY: key(),
};
const parse = (env: Record<string, string>) => parseConfig(auditConfigSchema, { ...base, ...env });
const problems = (env: Record<string, string>) => configProblems(() => parse(env));

describe('audit configuration: witnessed checkpoints', () => {
  it('signs a checkpoint at least hourly by default', () => {
    expect(parse({}).checkpoints).toEqual({
      everyEvents: 1000,
      intervalMs: 60_000,
      maxAgeMs: 3_600_000,
    });
    expect(parse({ AUDIT_CHECKPOINT_MAX_AGE_S: '600' }).checkpoints.maxAgeMs).toBe(600_000);
  });

  it('refuses a maximum age out of bounds, not an integer, or below the look-up interval', () => {
    for (const value of ['59', '86401', '1.5', 'hourly'])
      expect(problems({ AUDIT_CHECKPOINT_MAX_AGE_S: value }).join('\n')).toContain(
        'AUDIT_CHECKPOINT_MAX_AGE_S',
      );
    expect(
      problems({ AUDIT_CHECKPOINT_INTERVAL_S: '900', AUDIT_CHECKPOINT_MAX_AGE_S: '600' }).join(
        '\n',
      ),
    ).toContain('AUDIT_CHECKPOINT_MAX_AGE_S: must be at least AUDIT_CHECKPOINT_INTERVAL_S');
  });
});
