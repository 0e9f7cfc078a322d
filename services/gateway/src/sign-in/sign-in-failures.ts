import { ContractError, type SignInProvider } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { currentClient } from '../http/client-context.js';
import type { RateLimitsRepository } from '../http/rate-limits/rate-limits.repository.js';
import type { InvitationsRepository } from '../tenants/invitations.repository.js';

/** How many refused sign-ins one tenant's record takes in a window; the rest are only logged. */
export const SIGN_IN_FAILURES_PER_WINDOW = 20;
/**
 * How many of those one invitation may take: whoever holds one link cannot use up its tenant's
 * record for everyone else's refusals.
 */
export const SIGN_IN_FAILURES_PER_INVITATION = 3;
/** The window those refusals are counted in (every replica counts in the same Postgres row). */
export const SIGN_IN_FAILURE_WINDOW_MS = 10 * 60_000;

/** How far a refused sign-in got: past the identity provider, or not. */
export interface FailedSignIn {
  readonly provider: SignInProvider;
  /** The invitation the flow carried, once the provider has verified who signs in. */
  readonly invitationHash?: Buffer | null;
}

/**
 * Records refused sign-ins. Every one is logged (a warning naming the code, the provider and the
 * client), and the log leaves over OTLP when the operator configures a collector. A refusal that
 * belongs to a tenant — someone the provider verified, coming with a pending invitation of that
 * tenant — is also recorded in that tenant's audit record (`session.sign_in_failed`), at most
 * {@link SIGN_IN_FAILURES_PER_WINDOW} a window per tenant and {@link SIGN_IN_FAILURES_PER_INVITATION}
 * per invitation across all replicas, so that holding an invitation lets no one flood a tenant's
 * chain, nor crowd out the refusals of others. Before the provider has verified anyone
 * (a wrong state, a refused code or ID token, the provider down) nothing names a tenant that can be
 * trusted — the request is whatever the caller sent — so those are logged only.
 */
export class SignInFailures {
  constructor(
    private readonly invitations: InvitationsRepository,
    private readonly windows: RateLimitsRepository,
    private readonly audit: AuditRecorder,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Notes one refused sign-in; never throws (the person gets the original refusal). */
  async note(error: unknown, attempt: FailedSignIn): Promise<void> {
    const code = error instanceof ContractError ? error.code : 'INTERNAL';
    try {
      const invitation = await this.invitationOf(attempt);
      const tenantId = invitation?.tenant_id;
      const recorded =
        invitation === undefined ? false : await this.record(invitation, code, attempt);
      // The client is the only trace of a refusal no tenant records: the log keeps it.
      this.logger.warn(
        { code, provider: attempt.provider, tenantId, recorded, client: currentClient() },
        'sign-in refused',
      );
    } catch (failure) {
      this.logger.error(
        { code, provider: attempt.provider, err: failure },
        'a refused sign-in could not be recorded',
      );
    }
  }

  private async invitationOf(attempt: FailedSignIn) {
    if (attempt.invitationHash === undefined || attempt.invitationHash === null) return undefined;
    return this.invitations.find(attempt.invitationHash, this.now());
  }

  private async record(
    invitation: { readonly id: string; readonly tenant_id: string },
    code: ContractError['code'],
    attempt: FailedSignIn,
  ): Promise<boolean> {
    const tenantId = invitation.tenant_id;
    const ofInvitation = await this.windows.hit(
      `sign-in-failures:invitation:${invitation.id}`,
      'audit.sign_in_failed',
      SIGN_IN_FAILURES_PER_INVITATION,
      SIGN_IN_FAILURE_WINDOW_MS,
      SIGN_IN_FAILURE_WINDOW_MS,
    );
    if (ofInvitation.hits > SIGN_IN_FAILURES_PER_INVITATION) return false;
    const { hits } = await this.windows.hit(
      `sign-in-failures:${tenantId}`,
      'audit.sign_in_failed',
      SIGN_IN_FAILURES_PER_WINDOW,
      SIGN_IN_FAILURE_WINDOW_MS,
      SIGN_IN_FAILURE_WINDOW_MS,
    );
    if (hits > SIGN_IN_FAILURES_PER_WINDOW) return false;
    await this.audit.record({
      tenantId,
      name: 'session.sign_in_failed',
      // Nobody signed in: the person, if there is one, is not known to HeroAgent yet.
      actor: { type: 'user', id: 'anonymous' },
      outcome: 'failure',
      data: {
        provider: attempt.provider,
        code,
        invitationId: invitation.id,
        failuresInWindow: hits,
        failuresOfInvitation: ofInvitation.hits,
        // The last one recorded, of the tenant's or of this invitation's share: the rest are logged.
        ...(hits === SIGN_IN_FAILURES_PER_WINDOW ? { furtherFailuresLoggedOnly: true } : {}),
        ...(ofInvitation.hits === SIGN_IN_FAILURES_PER_INVITATION
          ? { furtherFailuresOfInvitationLoggedOnly: true }
          : {}),
      },
    });
    return true;
  }
}
