import { describe, expect, it } from 'vitest';
import { loadLauncherConfig } from './config.js';

describe('the launcher’s environment, split by who may see it', () => {
  it('gives the model settings (and a hosted model’s key) to the agent alone', () => {
    const config = loadLauncherConfig({
      LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
      LLM_MODEL: 'llama3.1',
      LLM_API_KEY: 'sk-not-for-the-gateway',
      AGENT_MAX_TASKS: '4',
      PUBLIC_URL: 'http://localhost:8080',
      VAULT_TOKEN: 'hvs.not-for-the-agent',
    });
    expect(config.agentEnv).toEqual({
      LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
      LLM_MODEL: 'llama3.1',
      LLM_API_KEY: 'sk-not-for-the-gateway',
      AGENT_MAX_TASKS: '4',
    });
    for (const other of [config.gatewayEnv, config.vaultProxyEnv, config.inheritedEnv]) {
      expect(JSON.stringify(other)).not.toMatch(/sk-not-for|LLM_/);
    }
    expect(JSON.stringify(config.agentEnv)).not.toContain('hvs.');
  });

  it('runs with TLS unless HEROAGENT_TLS=off, and passes an external server’s TLS settings on', () => {
    expect(loadLauncherConfig({}).tls).toBe(true);
    expect(loadLauncherConfig({ HEROAGENT_TLS: 'off' }).tls).toBe(false);
    expect(() => loadLauncherConfig({ HEROAGENT_TLS: 'maybe' })).toThrow(/HEROAGENT_TLS:/);
    const external = loadLauncherConfig({
      DATABASE_URL: 'postgres://admin@db.internal/heroagent',
      DATABASE_TLS_CA_FILE: '/etc/heroagent/db-ca.pem',
      NATS_URL: 'tls://nats.internal:4222',
      NATS_TLS_CA_FILE: '/etc/heroagent/nats-ca.pem',
    });
    expect(external.externalTlsEnv).toEqual({
      DATABASE_TLS_CA_FILE: '/etc/heroagent/db-ca.pem',
      NATS_TLS_CA_FILE: '/etc/heroagent/nats-ca.pem',
    });
  });
});
