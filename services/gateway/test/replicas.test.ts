import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, sql, type Kysely } from '@heroagent/db';
import { TestBrowser } from '@heroagent/doubles';
import { Housekeeping } from '../src/housekeeping.js';
import { person } from './support/people.js';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';

/**
 * Two gateway replicas on one Postgres and one NATS, behind a round-robin load balancer: what one
 * replica knows, the other must know too.
 */
describe('two gateway replicas behind a load balancer', { timeout: 60_000 }, () => {
  let fixture: GatewayFixture;
  let admin: Kysely<unknown>;

  beforeAll(async () => {
    fixture = await startGatewayFixture({}, { replicas: 2 });
    admin = createDatabase<unknown>({
      connectionString: fixture.database.adminUrl,
      schema: 'gateway',
      applicationName: 'gateway-replicas-test-admin',
    });
  });
  afterAll(async () => {
    await admin?.destroy();
    await fixture?.close();
  });

  it('holds a route’s rate limit across both: exactly the limit of 2N requests gets through', async () => {
    // GET /v1/me/export allows 6 a minute per address; the throttle runs before sign-in is checked.
    const browser = new TestBrowser();
    const before = [...fixture.proxy!.served];
    const statuses: number[] = [];
    for (let index = 0; index < 12; index += 1) {
      const response = await browser.fetch(`${fixture.origin}/v1/me/export`);
      statuses.push(response.status);
      await response.body?.cancel();
    }
    // Both replicas answered half of them.
    expect(fixture.proxy!.served.map((count, index) => count - before[index]!)).toEqual([6, 6]);
    expect(statuses.filter((status) => status !== 429)).toHaveLength(6);
    expect(statuses.filter((status) => status === 429)).toHaveLength(6);
    // Another address has its own budget, on either replica.
    const other = await new TestBrowser().fetch(`${fixture.origin}/v1/me/export`);
    expect(other.status).toBe(401);
  });

  it('opens a new window once the last one (and its block) ended; housekeeping purges ended ones', async () => {
    const browser = new TestBrowser();
    const get = async () => {
      const response = await browser.fetch(`${fixture.origin}/v1/me/export`);
      await response.body?.cancel();
      return response;
    };
    for (let index = 0; index < 6; index += 1) expect((await get()).status).toBe(401);
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await get()).status).toBe(429);
    // The minute passes (moved, rather than waited for).
    await sql`update http_rate_limits set window_ends_at = now() - interval '1 second'`.execute(
      admin,
    );
    expect((await get()).status).toBe(401);
    await sql`update http_rate_limits set window_ends_at = now() - interval '1 second'`.execute(
      admin,
    );
    await fixture.replicas[1]!.app.get(Housekeeping).purge();
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from http_rate_limits`.execute(admin);
    expect(rows[0]!.n).toBe(0);
  });

  it('holds the limit under simultaneous requests to both replicas', async () => {
    const browser = new TestBrowser();
    const statuses = await Promise.all(
      Array.from({ length: 24 }, async () => {
        const response = await browser.fetch(`${fixture.origin}/v1/me/export`);
        await response.body?.cancel();
        return response.status;
      }),
    );
    expect(statuses.filter((status) => status !== 429)).toHaveLength(6);
  });

  it('signs in when the callback reaches the other replica than the start, and keeps the session on both', async () => {
    const proxy = fixture.proxy!;
    const from = proxy.handed.length;
    const { browser, session } = await fixture.signIn(person('ada'));
    const handed = proxy.handed.slice(from);
    const start = handed.find((entry) => entry.path.startsWith('/v1/auth/google/start'));
    const callback = handed.find((entry) => entry.path.startsWith('/v1/auth/google/callback'));
    expect(start).toBeDefined();
    expect(callback).toBeDefined();
    expect(callback!.replica).not.toBe(start!.replica);
    // A write with the CSRF token on one replica, read back on the other.
    const created = await fixture.call(browser, 'POST', '/v1/tenants', { name: 'Replicated' });
    expect(created.status).toBe(201);
    const seen = await Promise.all([fixture.session(browser), fixture.session(browser)]);
    for (const view of seen) {
      expect(view.user.id).toBe(session.user.id);
      expect(view.tenant?.name).toBe('Replicated');
    }
  });
});
