import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeAction, GATEWAY_ROUTES, type HttpRoute } from '@heroagent/contracts';
import { ContractClient, natsEnvSchema } from '@heroagent/service';
import { TestBrowser } from '@heroagent/doubles';
import {
  leavesTheApi,
  startGatewayFixture,
  type GatewayFixture,
  type SessionView,
} from './support/fixture.js';
import { person } from './support/people.js';

/**
 * Table-driven over every route of the API (GATEWAY_ROUTES), so a new route is covered by
 * default: it must be served and described, carry the security headers, refuse the unsigned-in,
 * the wrong role and a cross-site request, and never reach into another tenant.
 */

const stateChanging = GATEWAY_ROUTES.filter((route) => route.method !== 'GET');
const label = (route: HttpRoute) => `${route.method} ${route.path}`;

/** Another tenant's identifiers: what no request from tenant A may reach or reveal. */
interface Target {
  tenantId: string;
  tenantName: string;
  ownerId: string;
  ownerEmail: string;
  memberId: string;
  memberEmail: string;
  sessionId: string;
  invitationId: string;
  invitationToken: string;
  invitationEmail: string;
  connectionId: string;
  connectionAccount: string;
  taskId: string;
  capability: string;
  approvalId: string;
  actionId: string;
}

/** A request for `route` aimed at the target's objects wherever the route names one. */
function requestFor(route: HttpRoute, target: Target, self: SessionView) {
  const params: Record<string, string> = {};
  for (const [, name] of route.path.matchAll(/:([a-zA-Z]+)/g)) {
    if (name === 'provider') params[name] = 'google';
    else if (name === 'userId') params[name] = target.memberId;
    else if (name === 'id' && route.path.startsWith('/v1/me/sessions'))
      params[name] = target.sessionId;
    else if (name === 'id' && route.path.startsWith('/v1/tenant/invitations'))
      params[name] = target.invitationId;
    else if (name === 'id' && route.path.startsWith('/v1/connections'))
      params[name] = target.connectionId;
    else if (name === 'id' && route.path.startsWith('/v1/tasks')) params[name] = target.taskId;
    else if (name === 'id' && route.path.startsWith('/v1/approvals'))
      params[name] = target.approvalId;
    else if (name === 'id' && route.path.startsWith('/v1/actions')) params[name] = target.actionId;
    // SIEM destinations live in audit, which this fixture does not run (records.test.ts covers
    // another tenant's destination against the real audit): any id, and nothing to reach.
    else if (name === 'id' && route.path.startsWith('/v1/tenant/siem-destinations'))
      params[name] = randomUUID();
    else throw new Error(`${label(route)}: say which of the target's objects :${name} names`);
  }
  const path = route.path.replace(/:([a-zA-Z]+)/g, (_, name: string) => params[name]!);
  const queries: Record<string, string> = {
    'connections.list': `userId=${target.memberId}`,
    'tasks.list': `userId=${target.memberId}`,
    'connections.start': 'scopes=gmail.read',
    'auth.callback': 'code=x&state=' + 'S'.repeat(43),
    'connections.callback': 'code=x&state=' + 'S'.repeat(43),
  };
  const bodies: Record<string, unknown> = {
    'session.tenant': { tenantId: target.tenantId },
    'tenants.create': { name: 'Another of mine' },
    'invitations.accept': { token: target.invitationToken },
    'me.close': { confirm: self.user.email },
    'tenant.members.role': { role: 'member' },
    'tenant.invitations.create': { email: `fresh-${randomUUID()}@example.com`, role: 'member' },
    'tenant.close': { confirm: self.tenant?.name },
    'tasks.start': {
      title: 'Tidy the inbox',
      actions: ['gmail.messages.search'],
      connectionId: target.connectionId,
    },
    'tasks.preview': { request: 'Summarise the latest mail from Carol.' },
    'tasks.stop': {},
    'tenant.policy.save': { text: '', expectedVersion: 0 },
    'tenant.siem.create': { name: 'SIEM', endpoint: 'https://collector.example/v1/logs' },
    'tenant.policy.simulate': { text: '' },
    'tenant.retention.save': { taskHistoryDays: 30 },
    'tenant.agent-settings.save': {
      allowCloud: false,
      providerId: null,
      cloudMayReadBodies: false,
    },
    'approvals.approve': {},
    'approvals.deny': {},
  };
  if (route.body !== undefined && !(route.id in bodies)) {
    throw new Error(`${label(route)}: add a sample body to the cross-tenant table`);
  }
  const query = queries[route.id];
  return {
    path: query === undefined ? path : `${path}?${query}`,
    body: route.body === undefined ? undefined : bodies[route.id],
    targetsAnother:
      (Object.keys(params).some((name) => name !== 'provider') &&
        !route.path.startsWith('/v1/tenant/siem-destinations')) ||
      route.id === 'session.tenant' ||
      route.id === 'invitations.accept' ||
      route.id === 'connections.list',
  };
}

/** An approval pending in the other tenant: the agent asks for a draft, which needs approval. */
async function pendingApproval(
  fixture: GatewayFixture,
  capability: string,
): Promise<{ approvalId: string; actionId: string }> {
  const agent = ContractClient.create(natsEnvSchema.parse({ NATS_URL: fixture.nats.url }), 'agent');
  try {
    const answer = await agent.request(executeAction, {
      capability,
      action: 'gmail.drafts.create',
      params: { to: ['ada@corp.example'], subject: 'B', body: 'B' },
      idempotencyKey: `key-${randomUUID()}`,
      rationale: 'B asked.',
    });
    if (answer.status !== 'pending_approval') throw new Error('expected a pending approval');
    return { approvalId: answer.approvalId, actionId: answer.actionId };
  } finally {
    await agent.close();
  }
}

describe('every route (table-driven)', () => {
  let fixture: GatewayFixture;
  let target: Target;
  let targetOwner: { browser: TestBrowser; session: SessionView };

  beforeAll(async () => {
    fixture = await startGatewayFixture();
    targetOwner = await fixture.signIn(person('b-owner'));
    const b = targetOwner;
    const memberEmail = person('b-member').email;
    const joinToken = (
      (await (
        await fixture.call(b.browser, 'POST', '/v1/tenant/invitations', {
          email: memberEmail,
          role: 'member',
        })
      ).json()) as { token: string }
    ).token;
    const member = await fixture.signIn(
      { sub: `sub-${memberEmail}`, email: memberEmail, name: 'B member' },
      { invitation: joinToken },
    );
    const invitationEmail = person('b-invitee').email;
    const pending = (await (
      await fixture.call(b.browser, 'POST', '/v1/tenant/invitations', {
        email: invitationEmail,
        role: 'admin',
      })
    ).json()) as { token: string; invitation: { id: string } };
    const account = person('b-account');
    fixture.provider.nextUser(account);
    await member.browser.follow(
      `${fixture.origin}/v1/connections/google/start?scopes=gmail.read`,
      leavesTheApi(fixture.origin),
    );
    const connection = [...fixture.vault.connections.values()].find(
      (c) => c.userId === member.session.user.id,
    )!;
    const started = (await (
      await fixture.call(member.browser, 'POST', '/v1/tasks', {
        title: 'B task',
        actions: ['gmail.messages.search', 'gmail.drafts.create'],
        connectionId: connection.id,
      })
    ).json()) as { task: { id: string }; capability: string };
    const sessions = (await (
      await fixture.call(member.browser, 'GET', '/v1/me/sessions')
    ).json()) as { sessions: { id: string }[] };
    target = {
      tenantId: b.session.tenant!.id,
      tenantName: b.session.tenant!.name,
      ownerId: b.session.user.id,
      ownerEmail: b.session.user.email,
      memberId: member.session.user.id,
      memberEmail,
      sessionId: sessions.sessions[0]!.id,
      invitationId: pending.invitation.id,
      invitationToken: pending.token,
      invitationEmail,
      connectionId: connection.id,
      connectionAccount: account.email,
      taskId: started.task.id,
      ...(await pendingApproval(fixture, started.capability)),
      capability: started.capability,
    };
  });
  afterAll(() => fixture?.close());

  it('serves exactly the routes of the contract, and describes them all in OpenAPI', async () => {
    // Express 5 keeps its routes in `app.router.stack`, one layer per method and path.
    const app = fixture.gateway.app.getHttpAdapter().getInstance() as unknown as {
      router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    };
    const served = app.router.stack
      .filter((layer) => layer.route !== undefined)
      .flatMap((layer) =>
        Object.keys(layer.route!.methods)
          .filter((method) => method !== '_all')
          .map((method) => `${method.toUpperCase()} ${layer.route!.path}`),
      )
      .sort();
    expect(served).toEqual(GATEWAY_ROUTES.map(label).sort());
    const document = (await (await fetch(`${fixture.origin}/v1/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(document.openapi).toMatch(/^3\.1/);
    const described = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.values(operations).map((operation) => `${operation.operationId} ${path}`),
    );
    for (const route of GATEWAY_ROUTES) {
      expect(described).toContain(`${route.id} ${route.path.replace(/:([a-zA-Z]+)/g, '{$1}')}`);
    }
  });

  it.each(GATEWAY_ROUTES.map((route) => [label(route), route] as const))(
    '%s answers with the security headers',
    async (_, route) => {
      const path = route.path.replace(/:([a-zA-Z]+)/g, (_m, name: string) =>
        name === 'provider' ? 'google' : randomUUID(),
      );
      const response = await fetch(`${fixture.origin}${path}`, {
        method: route.method,
        redirect: 'manual',
      });
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('strict-transport-security')).toContain('max-age=31536000');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    },
  );

  it.each(GATEWAY_ROUTES.filter((r) => r.access !== 'public').map((r) => [label(r), r] as const))(
    '%s refuses a request without a session',
    async (_, route) => {
      const browser = new TestBrowser();
      const { path, body } = requestFor(route, target, {
        user: { email: 'x@example.com' },
        tenant: null,
      } as SessionView);
      const response = await fixture.call(browser, route.method, path, body);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    },
  );

  const roleRoutes = GATEWAY_ROUTES.filter((route) => typeof route.access === 'object').flatMap(
    (route) =>
      (['admin', 'auditor', 'member'] as const)
        .filter((role) => !(route.access as { roles: readonly string[] }).roles.includes(role))
        .map((role) => [label(route), role, route] as const),
  );

  it.each(roleRoutes)('%s refuses the role %s', async (_, role, route) => {
    const owner = await fixture.signIn(person('owner'));
    const email = person(role).email;
    const { token } = (await (
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', { email, role })
    ).json()) as { token: string };
    const someone = await fixture.signIn(
      { sub: `sub-${email}`, email, name: role },
      { invitation: token },
    );
    const { path, body } = requestFor(route, target, someone.session);
    const response = await fixture.call(someone.browser, route.method, path, body);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it.each(stateChanging.filter((r) => r.access !== 'public').map((r) => [label(r), r] as const))(
    '%s refuses a request without the CSRF token, with a wrong one, or from another site',
    async (_, route) => {
      const { browser, session } = await fixture.signIn(person('csrf'));
      const { path, body } = requestFor(route, target, session);
      const attempts: Record<string, string>[] = [
        { 'x-csrf-token': '' },
        { 'x-csrf-token': 'A'.repeat(43) },
        { 'x-csrf-token': session.csrfToken, origin: 'https://evil.example' },
        { 'x-csrf-token': session.csrfToken, 'sec-fetch-site': 'cross-site' },
        { 'x-csrf-token': session.csrfToken, 'sec-fetch-site': 'same-site' },
      ];
      for (const headers of attempts) {
        const response = await fixture.call(browser, route.method, path, body, headers);
        expect(response.status).toBe(403);
        expect(await response.json()).toMatchObject({ code: 'CSRF_INVALID' });
      }
      // Nothing happened: the session still works, in the same tenant.
      expect((await fixture.session(browser)).tenant?.id).toBe(session.tenant?.id);
    },
  );

  it.each(GATEWAY_ROUTES.filter((r) => r.access !== 'public').map((r) => [label(r), r] as const))(
    '%s never reaches or reveals another tenant’s data',
    async (_, route) => {
      const { browser, session } = await fixture.signIn(person('a-owner'));
      const { path, body, targetsAnother } = requestFor(route, target, session);
      const response = await fixture.call(browser, route.method, path, body);
      const text = await response.text();
      for (const secret of [
        target.tenantId,
        target.tenantName,
        target.ownerId,
        target.ownerEmail,
        target.memberEmail,
        target.sessionId,
        target.invitationId,
        target.invitationToken,
        target.invitationEmail,
        target.connectionId,
        target.connectionAccount,
        target.taskId,
        target.capability,
        target.approvalId,
        target.actionId,
      ]) {
        // The request itself may carry the target's id; the answer never echoes anything of B's.
        expect(text.replace(path, '')).not.toContain(secret);
      }
      if (targetsAnother && route.id !== 'connections.list' && route.id !== 'tasks.list') {
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
      }
    },
  );

  it('left the other tenant exactly as it was', async () => {
    const b = targetOwner;
    const session = await fixture.session(b.browser);
    expect(session.tenant).toMatchObject({ id: target.tenantId, role: 'owner' });
    const members = (await (await fixture.call(b.browser, 'GET', '/v1/tenant/members')).json()) as {
      members: { userId: string; role: string }[];
    };
    expect(members.members).toEqual([
      expect.objectContaining({ userId: target.ownerId, role: 'owner' }),
      expect.objectContaining({ userId: target.memberId, role: 'member' }),
    ]);
    const invitations = (await (
      await fixture.call(b.browser, 'GET', '/v1/tenant/invitations')
    ).json()) as {
      invitations: { id: string; status: string }[];
    };
    expect(invitations.invitations.find((i) => i.id === target.invitationId)?.status).toBe(
      'pending',
    );
    expect(fixture.vault.connections.get(target.connectionId)?.status).toBe('active');
    const tasks = (await (await fixture.call(b.browser, 'GET', '/v1/tasks?userId=all')).json()) as {
      tasks: { id: string; status: string }[];
    };
    expect(tasks.tasks.find((t) => t.id === target.taskId)?.status).toBe('running');
    const approvals = (await (await fixture.call(b.browser, 'GET', '/v1/approvals')).json()) as {
      approvals: { id: string; status: string }[];
    };
    expect(approvals.approvals.find((a) => a.id === target.approvalId)?.status).toBe('pending');
    expect(
      (await (await fixture.call(b.browser, 'GET', '/v1/tenant/agents')).json()) as object,
    ).toEqual({
      paused: false,
    });
    expect(fixture.vault.erased.filter((e) => e.tenantId === target.tenantId)).toEqual([]);
    const sessions = (await (await fixture.call(b.browser, 'GET', '/v1/me/sessions')).json()) as {
      sessions: object[];
    };
    expect(sessions.sessions.length).toBeGreaterThan(0);
  });
});
