import { randomUUID } from 'node:crypto';
import { Controller, Inject } from '@nestjs/common';
import {
  acceptInvitation,
  changeMemberRole,
  closeTenant,
  ContractError,
  createInvitation,
  createTenant,
  listInvitations,
  listMembers,
  listMyTenants,
  removeMember,
  revokeInvitation,
  type RouteResponse,
} from '@heroagent/contracts';
import { admissionLocks } from '../actions/admission-locks.js';
import { CancelHeldActions } from '../actions/cancel-held-actions.js';
import { TasksRepository } from '../tasks/tasks.repository.js';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { PersonalKeys } from '../privacy/personal-keys.js';
import { VaultProxyClient } from '../connections/vault-proxy.client.js';
import { EdgeOf, inTenant, Route, signedIn, type Edge } from '../http/route.js';
import { PeopleRepository, type Member, type Role } from '../people/people.repository.js';
import { currentSessionView } from '../sessions/session-view.js';
import { hashSecret, newBearerSecret } from '../sessions/secrets.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { mayCreateTenants, SignInService } from '../sign-in/sign-in.service.js';
import type { GatewayConfig } from '../config.js';
import { InvitationsRepository, type InvitationRow } from './invitations.repository.js';

const INVITATION_TTL_MS = 7 * 86_400_000;

/** Whether a signed-in person may create tenants (not when sign-up is by invitation only). */
export class TenantCreation {
  constructor(private readonly signUp: GatewayConfig['signUp']) {}

  allowedFor(email: string): boolean {
    return mayCreateTenants(this.signUp, email);
  }
}

/** Where an invitee goes to sign in and join, built from the public origin. */
export class InvitationLinks {
  constructor(
    private readonly publicOrigin: () => string,
    private readonly provider: () => string,
  ) {}

  acceptUrl(token: string): string {
    return `${this.publicOrigin()}/v1/auth/${this.provider()}/start?invitation=${encodeURIComponent(token)}`;
  }
}

function invitationView(row: InvitationRow, now: Date) {
  const status =
    row.accepted_at !== null
      ? 'accepted'
      : row.revoked_at !== null
        ? 'revoked'
        : row.expires_at <= now
          ? 'expired'
          : 'pending';
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    invitedBy: row.invited_by,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    status,
  } as const;
}

function memberView(member: Member) {
  return {
    userId: member.userId,
    email: member.email,
    displayName: member.displayName,
    role: member.role,
    joinedAt: member.joinedAt.toISOString(),
  };
}

/**
 * Tenants, memberships, roles and invitations. Owners and admins manage members; only an owner
 * makes or unmakes owners, and a tenant always keeps one. An invitation's token is shown once.
 */
@Controller()
export class TenantsController {
  constructor(
    @Inject(PeopleRepository) private readonly people: PeopleRepository,
    @Inject(InvitationsRepository) private readonly invitations: InvitationsRepository,
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(SignInService) private readonly signIn: SignInService,
    @Inject(VaultProxyClient) private readonly vault: VaultProxyClient,
    @Inject(PersonalKeys) private readonly keys: PersonalKeys,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
    @Inject(InvitationLinks) private readonly links: InvitationLinks,
    @Inject(TenantCreation) private readonly tenantCreation: TenantCreation,
    @Inject(CancelHeldActions) private readonly held: CancelHeldActions,
    @Inject(TasksRepository) private readonly tasks: TasksRepository,
  ) {}

  @Route(listMyTenants)
  async mine(
    @EdgeOf() edge: Edge<typeof listMyTenants>,
  ): Promise<RouteResponse<typeof listMyTenants>> {
    const memberships = await this.people.membershipsOf(signedIn(edge).userId);
    return {
      tenants: memberships.map((m) => ({ id: m.tenantId, name: m.name, role: m.role })),
    };
  }

  @Route(createTenant)
  async create(
    @EdgeOf() edge: Edge<typeof createTenant>,
  ): Promise<RouteResponse<typeof createTenant>> {
    const session = signedIn(edge);
    if (!this.tenantCreation.allowedFor(session.email)) {
      throw new ContractError('FORBIDDEN', 'new tenants are created by invitation only here');
    }
    const tenantId = randomUUID();
    await this.people.createTenant(
      tenantId,
      edge.input.body.name,
      session.userId,
      this.audit.within({
        tenantId,
        name: 'tenant.created',
        actor: { type: 'user', id: session.userId },
        userId: session.userId,
        outcome: 'success',
        data: {},
      }),
    );
    this.audit.committed();
    await this.sessions.switchTenant(session, tenantId);
    return currentSessionView(this.sessions, edge.presentedSessionSecret!);
  }

  @Route(acceptInvitation)
  async accept(
    @EdgeOf() edge: Edge<typeof acceptInvitation>,
  ): Promise<RouteResponse<typeof acceptInvitation>> {
    const session = signedIn(edge);
    const invitation = await this.signIn.join(hashSecret(edge.input.body.token), session.userId, {
      email: session.email,
      emailVerified: session.emailVerified,
    });
    await this.sessions.switchTenant(session, invitation.tenant_id);
    return currentSessionView(this.sessions, edge.presentedSessionSecret!);
  }

  @Route(listMembers)
  async members(
    @EdgeOf() edge: Edge<typeof listMembers>,
  ): Promise<RouteResponse<typeof listMembers>> {
    const session = inTenant(edge);
    return { members: (await this.people.members(session.tenant.id)).map(memberView) };
  }

  @Route(changeMemberRole)
  async changeRole(
    @EdgeOf() edge: Edge<typeof changeMemberRole>,
  ): Promise<RouteResponse<typeof changeMemberRole>> {
    const session = inTenant(edge);
    const { userId } = edge.input.params;
    const { role } = edge.input.body;
    const changed = await this.people.updateMembership(
      session.tenant.id,
      userId,
      (current, owners) => {
        refuseOwnerChange(session.tenant.role, current, role, owners);
        return role;
      },
      (change) =>
        change.before === change.after
          ? undefined
          : this.audit.within({
              tenantId: session.tenant.id,
              name: 'member.role_changed',
              actor: { type: 'user', id: session.userId },
              userId,
              outcome: 'success',
              data: { from: change.before, to: role },
            }),
    );
    if (changed === undefined) throw new ContractError('NOT_FOUND', 'no such member');
    this.audit.committed();
    const member = (await this.people.members(session.tenant.id)).find((m) => m.userId === userId);
    if (member === undefined) throw new ContractError('NOT_FOUND', 'no such member');
    return memberView(member);
  }

  @Route(removeMember)
  async remove(@EdgeOf() edge: Edge<typeof removeMember>): Promise<void> {
    const session = inTenant(edge);
    const { userId } = edge.input.params;
    // The membership goes, their connections and keys in the tenant are erased, and it is
    // recorded, in one transaction: if vault-proxy cannot erase, nothing changes.
    const removed = await this.people.updateMembership(
      session.tenant.id,
      userId,
      (current, owners) => {
        refuseOwnerChange(session.tenant.role, current, 'removed', owners);
        return 'remove';
      },
      (change) => async (trx) => {
        const now = new Date();
        // Their tasks stop, and what the agent holds for them in the tenant goes with them (a
        // later invitation back revives nothing).
        const tasksStopped = await this.tasks.stopAllOf(
          trx,
          userId,
          session.userId,
          'the person is no longer a member',
          now,
        );
        await this.held.within(
          { userId },
          { type: 'user', id: session.userId },
          { code: 'CAPABILITY_REVOKED', message: 'the person is no longer a member' },
          now,
        )(trx);
        const erased = await this.vault.erase(session.tenant.id, userId);
        await this.keys.erase(trx, session.tenant.id, userId);
        await this.audit.within({
          tenantId: session.tenant.id,
          name: 'member.removed',
          actor: { type: 'user', id: session.userId },
          userId,
          outcome: 'success',
          data: {
            role: change.before,
            revocationsQueued: erased.revocationsQueued,
            tasksStopped,
          },
        })(trx);
      },
      admissionLocks(session.tenant.id, userId),
    );
    if (removed === undefined) throw new ContractError('NOT_FOUND', 'no such member');
    this.audit.committed();
  }

  @Route(listInvitations)
  async listInvitations(
    @EdgeOf() edge: Edge<typeof listInvitations>,
  ): Promise<RouteResponse<typeof listInvitations>> {
    const session = inTenant(edge);
    const now = new Date();
    const rows = await this.invitations.list(session.tenant.id);
    return { invitations: rows.map((row) => invitationView(row, now)) };
  }

  @Route(createInvitation)
  async invite(
    @EdgeOf() edge: Edge<typeof createInvitation>,
  ): Promise<RouteResponse<typeof createInvitation>> {
    const session = inTenant(edge);
    const { email, role } = edge.input.body;
    const now = new Date();
    const members = await this.people.members(session.tenant.id);
    if (members.some((member) => member.email.toLowerCase() === email.toLowerCase())) {
      throw new ContractError('CONFLICT', 'that person is already a member');
    }
    if ((await this.invitations.pendingFor(session.tenant.id, email, now)) !== undefined) {
      throw new ContractError('CONFLICT', 'that person already has a pending invitation');
    }
    const token = newBearerSecret();
    const row = await this.invitations.create({
      tenantId: session.tenant.id,
      email,
      role,
      tokenHash: hashSecret(token),
      invitedBy: session.userId,
      expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
      within: (created) =>
        this.audit.within({
          tenantId: session.tenant.id,
          name: 'member.invited',
          actor: { type: 'user', id: session.userId },
          outcome: 'success',
          data: { invitationId: created.id, role },
        }),
    });
    this.audit.committed();
    return { invitation: invitationView(row, now), token, acceptUrl: this.links.acceptUrl(token) };
  }

  @Route(revokeInvitation)
  async revokeInvitation(@EdgeOf() edge: Edge<typeof revokeInvitation>): Promise<void> {
    const session = inTenant(edge);
    const { id } = edge.input.params;
    const revoked = await this.invitations.revoke(
      session.tenant.id,
      id,
      new Date(),
      this.audit.within({
        tenantId: session.tenant.id,
        name: 'member.invitation_revoked',
        actor: { type: 'user', id: session.userId },
        outcome: 'success',
        data: { invitationId: id },
      }),
    );
    if (!revoked) throw new ContractError('NOT_FOUND', 'no such pending invitation');
    this.audit.committed();
  }

  @Route(closeTenant)
  async close(@EdgeOf() edge: Edge<typeof closeTenant>): Promise<void> {
    const session = inTenant(edge);
    if (edge.input.body.confirm !== session.tenant.name) {
      throw new ContractError('INVALID_REQUEST', 'to confirm, send the tenant’s exact name', [
        { path: 'body.confirm', message: 'must be the tenant’s name' },
      ]);
    }
    // Secrets and keys are erased first (vault-proxy cannot take that back); the record and the
    // deletion commit together. A closure that fails part-way can be run again.
    await this.people.deleteTenant(session.tenant.id, async (trx) => {
      const erased = await this.vault.erase(session.tenant.id);
      await this.keys.erase(trx, session.tenant.id);
      await this.audit.within({
        tenantId: session.tenant.id,
        name: 'tenant.closed',
        actor: { type: 'user', id: session.userId },
        userId: session.userId,
        outcome: 'success',
        data: { revocationsQueued: erased.revocationsQueued, keysDeleted: erased.keysDeleted },
      })(trx);
    });
    this.audit.committed();
  }
}

/** Only an owner touches an owner's membership or makes one; the last owner stays. */
function refuseOwnerChange(
  actor: Role,
  current: Role,
  next: Role | 'removed',
  owners: number,
): void {
  if ((current === 'owner' || next === 'owner') && actor !== 'owner') {
    throw new ContractError('FORBIDDEN', 'only an owner makes or unmakes owners');
  }
  if (current === 'owner' && next !== 'owner' && owners <= 1) {
    throw new ContractError(
      'CONFLICT',
      'a tenant keeps at least one owner: make another owner first',
    );
  }
}
