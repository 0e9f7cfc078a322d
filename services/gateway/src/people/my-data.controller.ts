import { Controller, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import {
  closeMyAccount,
  ContractError,
  exportMyData,
  type RouteResponse,
} from '@heroagent/contracts';
import { AuditRecorder, type AuditRecord } from '../audit/audit-recorder.js';
import { connectionHealth } from '../connections/connections.controller.js';
import { PersonalKeys } from '../privacy/personal-keys.js';
import { VaultProxyClient } from '../connections/vault-proxy.client.js';
import { Cookies } from '../http/cookies.js';
import { EdgeOf, Route, signedIn, type Edge } from '../http/route.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { MyTaskHistory } from './my-task-history.js';
import { PeopleRepository } from './people.repository.js';

type Erased = { revocationsQueued: number; keysDeleted: number };

/** A person's own data: all of it exported, or all of it gone. */
@Controller()
export class MyDataController {
  constructor(
    @Inject(PeopleRepository) private readonly people: PeopleRepository,
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(VaultProxyClient) private readonly vault: VaultProxyClient,
    @Inject(PersonalKeys) private readonly keys: PersonalKeys,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
    @Inject(Cookies) private readonly cookies: Cookies,
    @Inject(MyTaskHistory) private readonly history: MyTaskHistory,
  ) {}

  /**
   * Everything the gateway and vault-proxy hold about this person: profile, sign-in identities,
   * memberships, sessions, connected accounts (never a token), and in each tenant their tasks with
   * what they asked, the agent's timeline and every action taken for them. Audit's record of what was
   * done for them is exported from audit (`audit.records.export`), keyed by the same ids.
   */
  @Route(exportMyData)
  async export(
    @EdgeOf() edge: Edge<typeof exportMyData>,
    @Res({ passthrough: true }) response: Response,
  ): Promise<RouteResponse<typeof exportMyData>> {
    const session = signedIn(edge);
    const [user, identities, memberships, sessions] = await Promise.all([
      this.people.user(session.userId),
      this.people.identitiesOf(session.userId),
      this.people.membershipsOf(session.userId),
      this.sessions.list(session.userId),
    ]);
    if (user === undefined) throw new ContractError('UNAUTHENTICATED', 'the account is gone');
    const tenants = [];
    for (const membership of memberships) {
      const [connections, tasks] = await Promise.all([
        this.vault.list(membership.tenantId, session.userId),
        this.history.of(membership.tenantId, session.userId),
      ]);
      tenants.push({
        id: membership.tenantId,
        name: membership.name,
        role: membership.role,
        joinedAt: membership.joinedAt.toISOString(),
        connections: connections.map((connection) => ({
          ...connection,
          health: connectionHealth(connection),
        })),
        tasks,
      });
    }
    response.setHeader(
      'content-disposition',
      `attachment; filename="heroagent-export-${session.userId}.json"`,
    );
    return {
      format: 'heroagent.export.v1',
      exportedAt: new Date().toISOString(),
      user: {
        id: user.id,
        email: user.email,
        emailVerified: user.email_verified,
        displayName: user.display_name,
        createdAt: user.created_at.toISOString(),
        lastSignInAt: user.last_sign_in_at?.toISOString() ?? null,
      },
      identities: identities.map((identity) => ({
        provider: identity.provider,
        issuer: identity.issuer,
        subject: identity.subject,
        email: identity.email,
        createdAt: identity.created_at.toISOString(),
        lastUsedAt: identity.last_used_at?.toISOString() ?? null,
      })),
      sessions: sessions.map((row) => ({
        id: row.id,
        createdAt: row.created_at.toISOString(),
        lastSeenAt: row.last_seen_at.toISOString(),
        expiresAt: row.expires_at.toISOString(),
        userAgent: row.user_agent,
        ip: row.ip,
      })),
      tenants,
    };
  }

  /**
   * Closes the account: in every tenant, vault-proxy revokes the person's connections at the
   * provider and destroys their secrets, and the closure is recorded; a tenant they alone belonged to is closed with them.
   * Then the person, their identities, memberships and sessions are deleted. Refused while they
   * are the only owner of a tenant others still belong to.
   */
  @Route(closeMyAccount)
  async close(
    @EdgeOf() edge: Edge<typeof closeMyAccount>,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const session = signedIn(edge);
    if (edge.input.body.confirm.toLowerCase() !== session.email.toLowerCase()) {
      throw new ContractError('INVALID_REQUEST', 'to confirm, send your account’s email address', [
        { path: 'body.confirm', message: 'must be your email address' },
      ]);
    }
    const memberships = await this.people.membershipsOf(session.userId);
    const plan: { tenantId: string; alone: boolean }[] = [];
    for (const membership of memberships) {
      const members = await this.people.members(membership.tenantId);
      const owners = members.filter((member) => member.role === 'owner').length;
      const alone = members.length === 1;
      if (membership.role === 'owner' && owners === 1 && !alone) {
        throw new ContractError(
          'CONFLICT',
          `you are the only owner of "${membership.name}": make someone else an owner, or close it, first`,
        );
      }
      plan.push({ tenantId: membership.tenantId, alone });
    }
    const closure = (tenantId: string, alone: boolean, erased: Erased): AuditRecord => ({
      tenantId,
      name: alone ? 'tenant.closed' : 'account.closed',
      actor: { type: 'user', id: session.userId },
      userId: session.userId,
      outcome: 'success',
      data: {
        revocationsQueued: erased.revocationsQueued,
        keysDeleted: erased.keysDeleted,
        ...(alone ? { reason: 'its only member closed their account' } : {}),
      },
    });
    // Each step erases in vault-proxy first (which cannot be taken back), then records and deletes
    // in one transaction, so a closure that fails part-way can simply be run again.
    for (const { tenantId } of plan.filter((step) => step.alone)) {
      await this.people.deleteTenant(tenantId, async (trx) => {
        const erased = await this.vault.erase(tenantId);
        await this.keys.erase(trx, tenantId);
        await this.audit.within(closure(tenantId, true, erased))(trx);
      });
    }
    await this.people.deletePerson(session.userId, async (trx) => {
      for (const { tenantId } of plan.filter((step) => !step.alone)) {
        const erased = await this.vault.erase(tenantId, session.userId);
        await this.keys.erase(trx, tenantId, session.userId);
        await this.people.deleteInvitationsOf(trx, tenantId, session);
        await this.audit.within(closure(tenantId, false, erased))(trx);
      }
    });
    this.audit.committed();
    this.cookies.clear(response, this.cookies.sessionName);
  }
}
