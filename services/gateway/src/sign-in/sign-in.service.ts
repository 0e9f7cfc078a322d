import { randomUUID } from 'node:crypto';
import { ContractError } from '@heroagent/contracts';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { GatewayConfig } from '../config.js';
import type { PeopleRepository, VerifiedIdentity } from '../people/people.repository.js';
import type { InvitationRow, InvitationsRepository } from '../tenants/invitations.repository.js';

/** Who signed in, and the tenant their session starts in. */
export interface Admitted {
  readonly userId: string;
  readonly tenantId: string | null;
  readonly created: boolean;
  readonly joined: InvitationRow | undefined;
}

/** An invitation is for the person whose verified email it names (case-insensitively). */
export function invitationIsFor(
  invitation: InvitationRow,
  identity: Pick<VerifiedIdentity, 'email' | 'emailVerified'>,
): boolean {
  return identity.emailVerified && invitation.email.toLowerCase() === identity.email.toLowerCase();
}

/** Whether a person may sign up on their own, or create tenants: not when it is by invitation. */
export function mayCreateTenants(signUp: GatewayConfig['signUp'], email: string): boolean {
  return signUp.mode === 'open' || signUp.bootstrapEmails.includes(email.toLowerCase());
}

/**
 * Who may come in. A known identity signs in as its person. A new one becomes a person only
 * with a verified email, and then: with an invitation to that email, as a member of the inviting
 * tenant; otherwise only when sign-up is open (and, if configured, their email's domain is
 * allowed), with a tenant of their own.
 */
export class SignInService {
  constructor(
    private readonly people: PeopleRepository,
    private readonly invitations: InvitationsRepository,
    private readonly signUp: GatewayConfig['signUp'],
    private readonly audit: AuditRecorder,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async admit(identity: VerifiedIdentity, invitationHash: Buffer | null): Promise<Admitted> {
    const now = this.now();
    const known = await this.people.signInKnown(identity, now);
    if (known !== undefined) {
      const joined =
        invitationHash === null ? undefined : await this.join(invitationHash, known, identity);
      const tenantId = joined?.tenant_id ?? (await this.people.membershipsOf(known))[0]?.tenantId;
      return { userId: known, tenantId: tenantId ?? null, created: false, joined };
    }
    if (!identity.emailVerified) {
      throw new ContractError(
        'FORBIDDEN',
        'your identity provider has not verified your email address, so no account can be made for it',
      );
    }
    const userId = randomUUID();
    if (invitationHash !== null) {
      const invitation = await this.invitations.find(invitationHash, now);
      if (invitation === undefined) {
        throw new ContractError(
          'INVITATION_INVALID',
          'the invitation is unknown, used, withdrawn or expired',
        );
      }
      if (!invitationIsFor(invitation, identity)) {
        throw new ContractError('FORBIDDEN', 'the invitation is for another email address');
      }
      await this.people.createPerson(userId, identity, now);
      const joined = await this.join(invitationHash, userId, identity);
      return { userId, tenantId: joined.tenant_id, created: true, joined };
    }
    if (!mayCreateTenants(this.signUp, identity.email)) {
      throw new ContractError('FORBIDDEN', 'joining HeroAgent here is by invitation only');
    }
    const domain = identity.email.slice(identity.email.lastIndexOf('@') + 1).toLowerCase();
    if (this.signUp.emailDomains.length > 0 && !this.signUp.emailDomains.includes(domain)) {
      throw new ContractError('FORBIDDEN', `sign-up is not open to ${domain} addresses here`);
    }
    const tenantId = randomUUID();
    const name = `${identity.displayName ?? identity.email}'s workspace`.slice(0, 200);
    await this.people.createPerson(
      userId,
      identity,
      now,
      { id: tenantId, name },
      this.audit.within({
        tenantId,
        name: 'account.created',
        actor: { type: 'user', id: userId },
        userId,
        outcome: 'success',
        data: { provider: identity.provider },
      }),
    );
    this.audit.committed();
    return { userId, tenantId, created: true, joined: undefined };
  }

  /** Accepts an invitation for a signed-in person (who must be the invited email). */
  async join(
    tokenHash: Buffer,
    userId: string,
    identity: Pick<VerifiedIdentity, 'email' | 'emailVerified'>,
  ): Promise<InvitationRow> {
    const result = await this.invitations.accept(
      tokenHash,
      userId,
      this.now(),
      (invitation) => invitationIsFor(invitation, identity),
      (invitation) =>
        this.audit.within({
          tenantId: invitation.tenant_id,
          name: 'member.joined',
          actor: { type: 'user', id: userId },
          userId,
          outcome: 'success',
          data: { invitationId: invitation.id, role: invitation.role },
        }),
    );
    this.audit.committed();
    if (result === undefined) {
      throw new ContractError(
        'INVITATION_INVALID',
        'the invitation is unknown, used, withdrawn or expired',
      );
    }
    if (!result.admitted) {
      throw new ContractError('FORBIDDEN', 'the invitation is for another email address');
    }
    return result.invitation;
  }
}
