import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayFixture, type GatewayFixture } from './support/fixture.js';

const SENDS_TO_CORP = `@id("corp-mail-only")
@reason("Mail may only go to corp.example")
forbid (principal, action == HeroAgent::Action::"gmail.messages.send", resource)
unless { context.recipientDomains.containsAll(["corp.example"]) && ["corp.example"].containsAll(context.recipientDomains) };`;

describe("a tenant's policy", () => {
  let fixture: GatewayFixture;

  beforeAll(async () => {
    fixture = await startGatewayFixture();
  });
  afterAll(() => fixture?.close());

  it('starts empty, with the defaults shown; saves a checked version; refuses a stale one', async () => {
    const { browser, session } = await fixture.signIn({
      sub: 'p-1',
      email: 'p1@example.com',
      name: 'P',
    });
    const empty = (await (await fixture.call(browser, 'GET', '/v1/tenant/policy')).json()) as {
      text: string;
      version: number;
      defaults: string;
      policies: object[];
    };
    expect(empty).toMatchObject({ text: '', version: 0, policies: [] });
    expect(empty.defaults).toContain('default-allow-reads');

    const saved = await fixture.call(browser, 'POST', '/v1/tenant/policy', {
      text: SENDS_TO_CORP,
      expectedVersion: 0,
    });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toMatchObject({
      version: 1,
      text: SENDS_TO_CORP,
      updatedBy: session.user.id,
      policies: [{ id: 'corp-mail-only', effect: 'forbid', approval: false }],
    });
    const stale = await fixture.call(browser, 'POST', '/v1/tenant/policy', {
      text: '',
      expectedVersion: 0,
    });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ code: 'CONFLICT' });

    const events = (await fixture.auditEvents()).filter(
      (e) => e.event.tenantId === session.tenant!.id && e.event.name === 'policy.changed',
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.event.data).toMatchObject({ version: 1, policies: ['corp-mail-only'] });
  });

  it('refuses a policy that does not parse or does not fit the schema, saying why', async () => {
    const { browser } = await fixture.signIn({ sub: 'p-2', email: 'p2@example.com', name: 'P' });
    for (const text of [
      'permit (principal, action, resource',
      '@id("x") permit (principal, action, resource) when { context.nonsense > 3 };',
      '@id("y") permit (principal, action == HeroAgent::Action::"gmail.messages.delete", resource);',
      'permit (principal, action, resource);',
    ]) {
      const response = await fixture.call(browser, 'POST', '/v1/tenant/policy', {
        text,
        expectedVersion: 0,
      });
      expect(response.status, text).toBe(400);
      const body = (await response.json()) as {
        code: string;
        issues: { path: string; message: string }[];
      };
      expect(body.code).toBe('INVALID_REQUEST');
      expect(body.issues.length).toBeGreaterThan(0);
      expect(body.issues[0]!.path).toBe('body.text');
    }
    const unchanged = (await (await fixture.call(browser, 'GET', '/v1/tenant/policy')).json()) as {
      version: number;
    };
    expect(unchanged.version).toBe(0);
  });
});
