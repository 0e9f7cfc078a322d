import { Controller, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import {
  ContractError,
  endMySession,
  getSession,
  listMySessions,
  signOut,
  switchTenant,
  type RouteResponse,
} from '@heroagent/contracts';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { Cookies } from '../http/cookies.js';
import { EdgeOf, Route, signedIn, type Edge } from '../http/route.js';
import { PeopleRepository } from '../people/people.repository.js';
import { currentSessionView, sessionView } from './session-view.js';
import type { ResolvedSession } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

/** The signed-in person's session and their other sessions. */
@Controller()
export class SessionController {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(PeopleRepository) private readonly people: PeopleRepository,
    @Inject(Cookies) private readonly cookies: Cookies,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
  ) {}

  @Route(getSession)
  get(@EdgeOf() edge: Edge<typeof getSession>): RouteResponse<typeof getSession> {
    return sessionView(signedIn(edge), edge.presentedSessionSecret!);
  }

  @Route(signOut)
  async signOut(
    @EdgeOf() edge: Edge<typeof signOut>,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const session = signedIn(edge);
    await this.sessions.end(edge.presentedSessionSecret!);
    await this.recordEnded(session, session.id, 'signed_out');
    this.cookies.clear(response, this.cookies.sessionName);
  }

  @Route(switchTenant)
  async switchTenant(
    @EdgeOf() edge: Edge<typeof switchTenant>,
  ): Promise<RouteResponse<typeof switchTenant>> {
    const session = signedIn(edge);
    const { tenantId } = edge.input.body;
    const memberships = await this.people.membershipsOf(session.userId);
    if (!memberships.some((membership) => membership.tenantId === tenantId)) {
      throw new ContractError('NOT_FOUND', 'you are not a member of that tenant');
    }
    await this.sessions.switchTenant(session, tenantId);
    return currentSessionView(this.sessions, edge.presentedSessionSecret!);
  }

  @Route(listMySessions)
  async list(
    @EdgeOf() edge: Edge<typeof listMySessions>,
  ): Promise<RouteResponse<typeof listMySessions>> {
    const session = signedIn(edge);
    const rows = await this.sessions.list(session.userId);
    return {
      sessions: rows.map((row) => ({
        id: row.id,
        current: row.id === session.id,
        createdAt: row.created_at.toISOString(),
        lastSeenAt: row.last_seen_at.toISOString(),
        expiresAt: row.expires_at.toISOString(),
        userAgent: row.user_agent,
        ip: row.ip,
      })),
    };
  }

  @Route(endMySession)
  async end(@EdgeOf() edge: Edge<typeof endMySession>): Promise<void> {
    const session = signedIn(edge);
    if (!(await this.sessions.endOne(session.userId, edge.input.params.id))) {
      throw new ContractError('NOT_FOUND', 'you have no such session');
    }
    await this.recordEnded(session, edge.input.params.id, 'ended_by_owner');
  }

  /** A sign-out, in the record of the tenant the person was working in (if any). */
  private async recordEnded(
    session: ResolvedSession,
    endedSessionId: string,
    reason: 'signed_out' | 'ended_by_owner',
  ): Promise<void> {
    if (session.tenant === null) return;
    await this.audit.record({
      tenantId: session.tenant.id,
      name: 'session.ended',
      actor: { type: 'user', id: session.userId },
      userId: session.userId,
      outcome: 'success',
      data: { sessionId: endedSessionId, reason },
    });
  }
}
