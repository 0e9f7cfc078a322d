import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@heroagent/db/testing';
import { createLogger } from '@heroagent/telemetry';
import { inboxPrefixOf } from '@heroagent/service';
import { startNatsServer, type TestNatsServer } from '@heroagent/service/testing';
import { migrations } from '../migrations/index.js';
import { GATEWAY_JOBS, gatewayConfigSchema } from '../src/config.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';

const key = () => randomBytes(32).toString('base64url');

describe('the gateway HTTP edge (real Postgres, own nats-server)', () => {
  let database: TestDatabase;
  let nats: TestNatsServer;
  let gateway: RunningGateway;
  let raw: NatsConnection;

  beforeAll(async () => {
    database = await createTestDatabase();
    nats = await startNatsServer();
    const service = await database.provisionService('gateway', { jobs: GATEWAY_JOBS });
    await service.migrate(migrations);
    const config = gatewayConfigSchema.parse({
      DATABASE_URL: service.runtimeUrl,
      DATABASE_RELAY_URL: service.jobUrls.relay,
      DATABASE_SWEEPER_URL: service.jobUrls.sweeper,
      NATS_URL: nats.url,
      NATS_REQUEST_TIMEOUT_MS: '1000',
      HTTP_PORT: '0',
      HTTP_BODY_LIMIT_BYTES: '2048',
      SERVICE_SIGNING_KEY: key(),
      SERVICE_SEALING_KEY: key(),
      HEROAGENT_ENV: 'test',
    });
    gateway = await startGateway(config, createLogger({ service: 'gateway', level: 'silent' }));
    // Its NATS health answers only the gateway's own identity.
    raw = await connect({ servers: nats.url, inboxPrefix: inboxPrefixOf('gateway') });
  });

  afterAll(async () => {
    await raw?.close();
    await gateway?.close();
    await nats?.stop();
    await database?.drop();
  });

  it('answers /healthz with helmet headers and nothing that names the framework', async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'alive' });
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=31536000');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('reports not ready, and which peers are unreachable, while they are down', async () => {
    const response = await fetch(`${gateway.url}/readyz`);
    expect(response.status).toBe(503);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      status: 'not_ready',
      checks: { postgres: 'up', nats: 'up' },
      services: {
        gateway: 'ok',
        agent: 'unreachable',
        'vault-proxy': 'unreachable',
        audit: 'unreachable',
      },
    });
  });

  it('answers gateway.health.get over NATS', async () => {
    const reply = await raw.request('gateway.health.get', '{}', { timeout: 2000 });
    const { response } = reply.json<{
      response: { service: string; status: string; checks: { name: string }[] };
    }>();
    expect(response.service).toBe('gateway');
    expect(response.status).toBe('ok');
    expect(response.checks.map((check) => check.name)).toEqual(['postgres', 'nats']);
  });

  it('answers an unknown route, bad JSON and an oversized body with coded JSON errors', async () => {
    const missing = await fetch(`${gateway.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: 'NOT_FOUND', message: 'Cannot GET /nope' });

    const post = (body: string) =>
      fetch(`${gateway.url}/healthz`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const malformed = await post('{"not json');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'INVALID_REQUEST' });

    const oversized = await post(JSON.stringify({ filler: 'x'.repeat(4096) }));
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toEqual({
      code: 'INVALID_REQUEST',
      message: 'the request body is too large',
    });
  });

  it('sends no CORS headers: other origins may not call the gateway from a browser', async () => {
    const preflight = await fetch(`${gateway.url}/healthz`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await fetch(`${gateway.url}/healthz`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a malformed NATS request with INVALID_REQUEST', async () => {
    const reply = await raw.request('gateway.health.get', '{"unexpected":1}', { timeout: 2000 });
    expect(reply.json<{ err: { code: string } }>().err.code).toBe('INVALID_REQUEST');
  });
});
