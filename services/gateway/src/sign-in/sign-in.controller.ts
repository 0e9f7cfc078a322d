import { Controller, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Strategy } from 'passport';
import {
  ContractError,
  finishSignIn,
  listSignInProviders,
  startSignIn,
  type RouteResponse,
  type SignInProvider,
} from '@heroagent/contracts';
import { EdgeOf, Route, type Edge } from '../http/route.js';
import { Cookies } from '../http/cookies.js';
import { hashSecret } from '../sessions/secrets.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { OAuthFlows } from './oauth-flows.js';
import { SignInFailures, type FailedSignIn } from './sign-in-failures.js';
import { SignInService } from './sign-in.service.js';

/** The identity providers configured here, by id, with the name people see. */
export class SignInProviders {
  constructor(
    readonly strategies: ReadonlyMap<SignInProvider, { name: string; strategy: Strategy }>,
  ) {}

  strategy(provider: SignInProvider): Strategy {
    const found = this.strategies.get(provider);
    if (found === undefined) {
      throw new ContractError('NOT_FOUND', `signing in with ${provider} is not configured here`);
    }
    return found.strategy;
  }
}

/** OAuth-only sign-in: no password exists anywhere in HeroAgent. */
@Controller()
export class SignInController {
  constructor(
    @Inject(SignInProviders) private readonly providers: SignInProviders,
    @Inject(OAuthFlows) private readonly flows: OAuthFlows,
    @Inject(SignInService) private readonly signIn: SignInService,
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(Cookies) private readonly cookies: Cookies,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
    @Inject(SignInFailures) private readonly failures: SignInFailures,
  ) {}

  @Route(listSignInProviders)
  list(): RouteResponse<typeof listSignInProviders> {
    return {
      providers: [...this.providers.strategies].map(([id, { name }]) => ({ id, name })),
    };
  }

  @Route(startSignIn)
  async start(@EdgeOf() edge: Edge<typeof startSignIn>, @Res() response: Response): Promise<void> {
    const { provider } = edge.input.params;
    const { returnTo, invitation } = edge.input.query;
    await this.flows.begin(
      this.providers.strategy(provider),
      edge.request,
      response,
      {
        purpose: 'sign_in',
        provider,
        sessionId: null,
        returnTo,
        scopes: ['openid', 'email', 'profile'],
        invitationHash: invitation === undefined ? null : hashSecret(invitation),
      },
      {
        callbackURL: this.flows.callbackUrl(`/v1/auth/${provider}/callback`),
        scope: ['openid', 'email', 'profile'],
        prompt: 'select_account',
      },
    );
  }

  @Route(finishSignIn)
  async callback(
    @EdgeOf() edge: Edge<typeof finishSignIn>,
    @Res() response: Response,
  ): Promise<void> {
    const { provider } = edge.input.params;
    const { admitted, flow } = await this.admit(provider, edge);
    // A fresh secret: whatever session cookie the browser came with (perhaps planted) is deleted.
    const session = await this.sessions.start(
      admitted.userId,
      admitted.tenantId,
      {
        userAgent: edge.request.headers['user-agent'] ?? null,
        ip: edge.request.ip ?? null,
      },
      edge.presentedSessionSecret,
    );
    if (admitted.tenantId !== null) {
      await this.audit.record({
        tenantId: admitted.tenantId,
        name: 'session.started',
        actor: { type: 'user', id: admitted.userId },
        userId: admitted.userId,
        outcome: 'success',
        data: { provider, sessionId: session.id },
      });
    }
    this.cookies.set(response, this.cookies.sessionName, session.secret, session.expiresAt);
    this.flows.clearBrowserBinding(response);
    response.redirect(303, flow.return_to);
  }

  /** Finishes the provider's flow and admits the person; a refusal is noted, then thrown. */
  private async admit(provider: SignInProvider, edge: Edge<typeof finishSignIn>) {
    let attempt: FailedSignIn = { provider };
    try {
      const { outcome, flow } = await this.flows.finish(
        this.providers.strategy(provider),
        edge.request,
        edge.input.query,
        { purpose: 'sign_in', provider, sessionId: null },
        { callbackURL: this.flows.callbackUrl(`/v1/auth/${provider}/callback`) },
      );
      attempt = { provider, invitationHash: flow.invitation_hash };
      return { admitted: await this.signIn.admit(outcome.identity, flow.invitation_hash), flow };
    } catch (error) {
      await this.failures.note(error, attempt);
      throw error;
    }
  }
}
