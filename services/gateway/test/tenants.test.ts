import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestBrowser } from '@heroagent/doubles';
import { startGatewayFixture, type GatewayFixture, type SessionView } from './support/fixture.js';
import { person } from './support/people.js';

interface Signed {
  browser: TestBrowser;
  session: SessionView;
}

describe('tenants, roles and invitations', () => {
  let fixture: GatewayFixture;

  const json = async <T = Record<string, unknown>>(response: Response, status: number) => {
    const body = (await response.json()) as T;
    expect({ status: response.status, body }).toMatchObject({ status });
    return body;
  };

  /** An owner with a tenant, and a person invited into it with `role`. */
  async function invite(owner: Signed, role: 'admin' | 'auditor' | 'member'): Promise<Signed> {
    const who = person(role);
    const created = await json<{ token: string; acceptUrl: string }>(
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', {
        email: who.email,
        role,
      }),
      201,
    );
    const joined = await fixture.signIn(who, { invitation: created.token });
    expect(joined.session.tenant).toMatchObject({ id: owner.session.tenant!.id, role });
    return joined;
  }

  beforeAll(async () => {
    fixture = await startGatewayFixture();
  });
  afterAll(() => fixture?.close());

  it('invites by email: the token is shown once, works once, and only for that email', async () => {
    const owner = await fixture.signIn(person('owner'));
    const invitee = person('invitee');
    const created = await json<{
      token: string;
      acceptUrl: string;
      invitation: { id: string; status: string; email: string };
    }>(
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', {
        email: invitee.email,
        role: 'member',
      }),
      201,
    );
    expect(created.invitation).toMatchObject({ status: 'pending', email: invitee.email });
    expect(created.acceptUrl).toBe(
      `${fixture.origin}/v1/auth/google/start?invitation=${created.token}`,
    );
    // The list never shows the token again.
    const listed = await json<{ invitations: object[] }>(
      await fixture.call(owner.browser, 'GET', '/v1/tenant/invitations'),
      200,
    );
    expect(JSON.stringify(listed)).not.toContain(created.token);
    // Someone else holding the link cannot use it.
    const stranger = await fixture.signIn(person('stranger'));
    const refused = await json(
      await fixture.call(stranger.browser, 'POST', '/v1/invitations/accept', {
        token: created.token,
      }),
      403,
    );
    expect(refused).toMatchObject({ code: 'FORBIDDEN' });
    // The invitee signs in with it and lands in the tenant as a member.
    const joined = await fixture.signIn(invitee, { invitation: created.token });
    expect(joined.session.tenant).toMatchObject({ id: owner.session.tenant!.id, role: 'member' });
    // Once only.
    const again = await json(
      await fixture.call(joined.browser, 'POST', '/v1/invitations/accept', {
        token: created.token,
      }),
      404,
    );
    expect(again).toMatchObject({ code: 'INVITATION_INVALID' });
    const after = await json<{ invitations: { status: string }[] }>(
      await fixture.call(owner.browser, 'GET', '/v1/tenant/invitations'),
      200,
    );
    expect(after.invitations[0]!.status).toBe('accepted');
  });

  it('refuses to invite a member again or twice, and withdraws invitations', async () => {
    const owner = await fixture.signIn(person('owner'));
    const member = await invite(owner, 'member');
    await json(
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', {
        email: member.session.user.email,
        role: 'admin',
      }),
      409,
    );
    const email = person('later').email;
    const first = await json<{ invitation: { id: string }; token: string }>(
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', {
        email,
        role: 'member',
      }),
      201,
    );
    await json(
      await fixture.call(owner.browser, 'POST', '/v1/tenant/invitations', {
        email,
        role: 'member',
      }),
      409,
    );
    const revoked = await fixture.call(
      owner.browser,
      'DELETE',
      `/v1/tenant/invitations/${first.invitation.id}`,
    );
    expect(revoked.status).toBe(204);
    await json(
      await fixture.call(owner.browser, 'DELETE', `/v1/tenant/invitations/${first.invitation.id}`),
      404,
    );
    // A withdrawn invitation admits nobody.
    const late = await fixture.signIn(person('late'));
    await json(
      await fixture.call(late.browser, 'POST', '/v1/invitations/accept', { token: first.token }),
      404,
    );
  });

  it('enforces roles: members and auditors cannot manage; admins cannot touch owners', async () => {
    const owner = await fixture.signIn(person('owner'));
    const admin = await invite(owner, 'admin');
    const auditor = await invite(owner, 'auditor');
    const member = await invite(owner, 'member');

    // Reading members: owner, admin, auditor; not a member.
    for (const reader of [owner, admin, auditor]) {
      await json(await fixture.call(reader.browser, 'GET', '/v1/tenant/members'), 200);
    }
    await json(await fixture.call(member.browser, 'GET', '/v1/tenant/members'), 403);
    // Managing: not an auditor (read-only), not a member.
    for (const outsider of [auditor, member]) {
      await json(
        await fixture.call(
          outsider.browser,
          'PATCH',
          `/v1/tenant/members/${member.session.user.id}`,
          {
            role: 'admin',
          },
        ),
        403,
      );
      await json(
        await fixture.call(outsider.browser, 'POST', '/v1/tenant/invitations', {
          email: 'x@example.com',
          role: 'member',
        }),
        403,
      );
    }
    // An admin may promote a member to auditor, but not make or unmake an owner.
    const promoted = await json<{ role: string }>(
      await fixture.call(admin.browser, 'PATCH', `/v1/tenant/members/${member.session.user.id}`, {
        role: 'auditor',
      }),
      200,
    );
    expect(promoted.role).toBe('auditor');
    await json(
      await fixture.call(admin.browser, 'PATCH', `/v1/tenant/members/${member.session.user.id}`, {
        role: 'owner',
      }),
      403,
    );
    await json(
      await fixture.call(admin.browser, 'DELETE', `/v1/tenant/members/${owner.session.user.id}`),
      403,
    );
    // The last owner cannot step down or be removed.
    const last = await json<{ code: string }>(
      await fixture.call(owner.browser, 'PATCH', `/v1/tenant/members/${owner.session.user.id}`, {
        role: 'admin',
      }),
      409,
    );
    expect(last.code).toBe('CONFLICT');
    // With a second owner, the first may step down.
    await json(
      await fixture.call(owner.browser, 'PATCH', `/v1/tenant/members/${admin.session.user.id}`, {
        role: 'owner',
      }),
      200,
    );
    await json(
      await fixture.call(owner.browser, 'PATCH', `/v1/tenant/members/${owner.session.user.id}`, {
        role: 'member',
      }),
      200,
    );
    // Removing a member revokes their connections in the tenant (vault-proxy erases them).
    const removed = await fixture.call(
      admin.browser,
      'DELETE',
      `/v1/tenant/members/${auditor.session.user.id}`,
    );
    expect(removed.status).toBe(204);
    expect(fixture.vault.erased).toContainEqual({
      tenantId: owner.session.tenant!.id,
      userId: auditor.session.user.id,
    });
    // The removed person's session no longer acts in that tenant.
    const gone = await fixture.session(auditor.browser);
    expect(gone.tenant).toBeNull();
    await json(await fixture.call(auditor.browser, 'GET', '/v1/connections'), 403);
  });

  it('creates tenants and switches between them, only into tenants one belongs to', async () => {
    const owner = await fixture.signIn(person('owner'));
    const created = await json<SessionView>(
      await fixture.call(owner.browser, 'POST', '/v1/tenants', { name: '  Second  ' }),
      201,
    );
    expect(created.tenant).toMatchObject({ name: 'Second', role: 'owner' });
    const mine = await json<{ tenants: { id: string }[] }>(
      await fixture.call(owner.browser, 'GET', '/v1/me/tenants'),
      200,
    );
    expect(mine.tenants.map((t) => t.id)).toEqual([owner.session.tenant!.id, created.tenant!.id]);
    const back = await json<SessionView>(
      await fixture.call(owner.browser, 'POST', '/v1/session/tenant', {
        tenantId: owner.session.tenant!.id,
      }),
      200,
    );
    expect(back.tenant!.id).toBe(owner.session.tenant!.id);
    const other = await fixture.signIn(person('other'));
    await json(
      await fixture.call(owner.browser, 'POST', '/v1/session/tenant', {
        tenantId: other.session.tenant!.id,
      }),
      404,
    );
  });

  it('lists and ends one’s own sessions, not another person’s', async () => {
    const who = person('multi');
    const laptop = await fixture.signIn(who);
    const phone = await fixture.signIn(who);
    const listed = await json<{ sessions: { id: string; current: boolean }[] }>(
      await fixture.call(laptop.browser, 'GET', '/v1/me/sessions'),
      200,
    );
    expect(listed.sessions).toHaveLength(2);
    const phoneSession = listed.sessions.find((s) => !s.current)!;
    const stranger = await fixture.signIn(person('stranger'));
    await json(
      await fixture.call(stranger.browser, 'DELETE', `/v1/me/sessions/${phoneSession.id}`),
      404,
    );
    expect(
      (await fixture.call(laptop.browser, 'DELETE', `/v1/me/sessions/${phoneSession.id}`)).status,
    ).toBe(204);
    expect((await phone.browser.fetch(`${fixture.origin}/v1/session`)).status).toBe(401);
    // Ended from the laptop: a sign-out in the tenant's record, naming the session and the laptop;
    // the stranger's refused attempt is not one.
    const ended = (await fixture.auditEvents())
      .map(({ event }) => event)
      .filter((event) => event.name === 'session.ended' && event.userId === laptop.session.user.id);
    expect(ended).toMatchObject([
      {
        tenantId: laptop.session.tenant!.id,
        client: { ip: laptop.browser.address },
        data: { sessionId: phoneSession.id, reason: 'ended_by_owner' },
      },
    ]);
  });

  it('changes nothing, and records nothing, when vault-proxy cannot erase a removed member’s secrets', async () => {
    const owner = await fixture.signIn(person('owner'));
    const member = await invite(owner, 'member');
    fixture.vault.down = true;
    try {
      const refused = await fixture.call(
        owner.browser,
        'DELETE',
        `/v1/tenant/members/${member.session.user.id}`,
      );
      expect(refused.status).toBe(504);
      const closing = await fixture.call(owner.browser, 'POST', '/v1/tenant/close', {
        confirm: owner.session.tenant!.name,
      });
      expect(closing.status).toBe(504);
    } finally {
      fixture.vault.down = false;
    }
    const members = await json<{ members: { userId: string }[] }>(
      await fixture.call(owner.browser, 'GET', '/v1/tenant/members'),
      200,
    );
    expect(members.members.map((m) => m.userId)).toContain(member.session.user.id);
    const events = await fixture.auditEvents();
    const here = events.filter((e) => e.event.tenantId === owner.session.tenant!.id);
    expect(here.map((e) => e.event.name)).not.toContain('member.removed');
    expect(here.map((e) => e.event.name)).not.toContain('tenant.closed');
    expect(here.map((e) => e.event.name)).toEqual(
      expect.arrayContaining(['account.created', 'member.invited', 'member.joined']),
    );
    // Once vault-proxy is back, the same request goes through, and is recorded once.
    expect(
      (await fixture.call(owner.browser, 'DELETE', `/v1/tenant/members/${member.session.user.id}`))
        .status,
    ).toBe(204);
    const after = (await fixture.auditEvents()).filter(
      (e) => e.event.tenantId === owner.session.tenant!.id && e.event.name === 'member.removed',
    );
    expect(after).toHaveLength(1);
  });

  it('closes a tenant (owner only, with its name as confirmation), erasing its secrets', async () => {
    const owner = await fixture.signIn(person('owner'));
    const admin = await invite(owner, 'admin');
    await json(
      await fixture.call(admin.browser, 'POST', '/v1/tenant/close', {
        confirm: owner.session.tenant!.name,
      }),
      403,
    );
    await json(
      await fixture.call(owner.browser, 'POST', '/v1/tenant/close', { confirm: 'wrong name' }),
      400,
    );
    const closed = await fixture.call(owner.browser, 'POST', '/v1/tenant/close', {
      confirm: owner.session.tenant!.name,
    });
    expect(closed.status).toBe(204);
    expect(fixture.vault.erased).toContainEqual({
      tenantId: owner.session.tenant!.id,
      userId: undefined,
    });
    expect((await fixture.session(admin.browser)).tenant).toBeNull();
    const events = await fixture.auditEvents();
    const closure = events.find(
      (e) => e.event.name === 'tenant.closed' && e.event.tenantId === owner.session.tenant!.id,
    );
    expect(closure?.event).toMatchObject({
      source: 'gateway',
      actor: { type: 'user', id: owner.session.user.id },
    });
    expect(closure?.signature.kid).toBe(fixture.gatewaySigning.kid);
  });
});
