import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Strategy } from 'passport';
import { ContractError } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { VaultProxyClient } from '../connections/vault-proxy.client.js';
import type { Cookies } from '../http/cookies.js';
import { hashSecret, isBearerSecret, newBearerSecret } from '../sessions/secrets.js';
import {
  expectFlow,
  verifiedFlow,
  type FlowExpectation,
  type FlowStart,
  type FlowStateStore,
} from './flow-state.store.js';
import type { FlowRow, FlowsRepository } from './flows.repository.js';
import { GoogleStrategy } from './google.strategy.js';
import { CodeRefused } from './oidc.strategy.js';
import type { ProviderOutcome, StepOptions } from './provider-outcome.js';
import { runStrategy, StrategyTimeout } from './run-strategy.js';

/** The query an identity provider sends the browser back with. */
export interface CallbackQuery {
  readonly code?: string | undefined;
  readonly state?: string | undefined;
  readonly error?: string | undefined;
}

/** Whose connection a connect flow makes. */
export interface ConnectionOwner {
  readonly tenantId: string;
  readonly userId: string;
}

/**
 * Starts and finishes OAuth flows for sign-in and for connecting accounts. Starting binds the
 * flow to this browser (a flow cookie whose hash the flow row keeps) and redirects to the
 * provider; finishing refuses a callback whose state is missing, unknown, used, expired, from
 * another browser or for another purpose, and maps every provider failure to a coded error.
 * A Google code is exchanged by vault-proxy, which holds Google's client secret and keeps the
 * tokens: the gateway sends it the code with the flow's PKCE verifier, redirect URI and nonce
 * and receives the verified identity (and, connecting, the stored connection). The generic OIDC
 * provider's code is exchanged here, by its strategy, with the gateway's own client secret.
 */
export class OAuthFlows {
  constructor(
    private readonly flows: FlowsRepository,
    private readonly states: FlowStateStore,
    private readonly vault: VaultProxyClient,
    private readonly cookies: Cookies,
    private readonly publicOrigin: () => string,
    private readonly options: { timeoutMs: number; flowTtlMs: number },
    private readonly logger: Logger,
  ) {}

  callbackUrl(path: string): string {
    return `${this.publicOrigin()}${path}`;
  }

  async begin(
    strategy: Strategy,
    request: Request,
    response: Response,
    start: Omit<FlowStart, 'browserHash' | 'nonce'>,
    step: Omit<StepOptions, 'state' | 'nonce'>,
  ): Promise<void> {
    const presented = this.cookies.read(request, this.cookies.flowName);
    const browserSecret = isBearerSecret(presented) ? presented : newBearerSecret();
    const nonce = randomBytes(24).toString('base64url');
    const outcome = await this.run(strategy, request, {
      ...step,
      nonce,
      state: { ...start, nonce, browserHash: hashSecret(browserSecret) } satisfies FlowStart,
    });
    if (outcome.kind !== 'redirect') {
      throw new ContractError('INTERNAL', 'the sign-in flow could not start');
    }
    this.cookies.set(
      response,
      this.cookies.flowName,
      browserSecret,
      new Date(Date.now() + this.options.flowTtlMs),
    );
    response.redirect(303, outcome.location);
  }

  async finish(
    strategy: Strategy,
    request: Request,
    query: CallbackQuery,
    expected: Omit<FlowExpectation, 'browserSecret'>,
    step: Pick<StepOptions, 'callbackURL'>,
    owner?: ConnectionOwner,
  ): Promise<{ outcome: ProviderOutcome; flow: FlowRow }> {
    if (query.error !== undefined) {
      // The person said no (or the provider failed): the state is spent either way.
      if (isBearerSecret(query.state))
        await this.flows.consume(hashSecret(query.state), new Date());
      throw new ContractError(
        'OAUTH_DENIED',
        query.error === 'access_denied'
          ? 'access was not granted at the identity provider'
          : `the identity provider refused: ${query.error.replace(/[^a-z_]/g, '').slice(0, 64)}`,
      );
    }
    if (query.code === undefined || query.state === undefined) {
      throw new ContractError('OAUTH_STATE_INVALID', 'the callback has no code or no state');
    }
    const expectation = {
      ...expected,
      browserSecret: this.cookies.read(request, this.cookies.flowName),
    };
    if (strategy instanceof GoogleStrategy) {
      const flow = await this.states.claim(query.state, expectation);
      return { outcome: await this.exchangeInVault(query.code, flow, step, owner), flow };
    }
    expectFlow(request, expectation);
    const outcome = await this.run<ProviderOutcome>(strategy, request, step);
    if (outcome.kind === 'fail') throw new ContractError('OAUTH_STATE_INVALID', outcome.reason);
    const flow = verifiedFlow(request);
    if (outcome.kind !== 'success' || flow === undefined) {
      throw new ContractError('INTERNAL', 'the flow finished without a verified state');
    }
    return { outcome: outcome.user, flow };
  }

  /** vault-proxy exchanges the code; a connect flow says whose connection it makes. */
  private async exchangeInVault(
    code: string,
    flow: FlowRow,
    step: Pick<StepOptions, 'callbackURL'>,
    owner: ConnectionOwner | undefined,
  ): Promise<ProviderOutcome> {
    if (flow.purpose === 'connect' && owner === undefined) {
      throw new ContractError('INTERNAL', 'a connect flow finished without its owner');
    }
    const answer = await this.vault.exchange({
      provider: 'google',
      code,
      codeVerifier: flow.code_verifier,
      redirectUri: step.callbackURL,
      nonce: flow.nonce,
      intent:
        flow.purpose === 'connect'
          ? { purpose: 'connect', ...owner!, requestedScopes: flow.scopes }
          : { purpose: 'sign_in' },
    });
    return {
      identity: answer.identity,
      grantedScopes: answer.grantedScopes,
      ...(answer.connection === undefined ? {} : { connection: answer.connection }),
    };
  }

  clearBrowserBinding(response: Response): void {
    this.cookies.clear(response, this.cookies.flowName);
  }

  private async run<User>(strategy: Strategy, request: Request, options: StepOptions) {
    try {
      return await runStrategy<User>(
        strategy,
        request,
        options as unknown as Record<string, unknown>,
        this.options.timeoutMs,
      );
    } catch (error) {
      throw this.toContractError(error);
    }
  }

  private toContractError(error: unknown): ContractError {
    if (error instanceof ContractError) return error;
    if (error instanceof StrategyTimeout) {
      return new ContractError(
        'PROVIDER_UNAVAILABLE',
        'the identity provider did not answer in time',
      );
    }
    const oauthCode =
      error instanceof CodeRefused
        ? error.oauthCode
        : (error as { name?: unknown; code?: unknown } | null)?.name === 'TokenError'
          ? String((error as { code?: unknown }).code)
          : undefined;
    if (oauthCode === 'invalid_grant') {
      return new ContractError(
        'OAUTH_STATE_INVALID',
        'the identity provider refused the authorization code (already used, expired, or not ours)',
      );
    }
    this.logger.warn(
      {
        err: error instanceof Error ? { name: error.name, message: error.message } : String(error),
      },
      'identity provider request failed',
    );
    if (oauthCode !== undefined) {
      return new ContractError(
        'OAUTH_STATE_INVALID',
        `the identity provider refused the flow (${oauthCode})`,
      );
    }
    return new ContractError('PROVIDER_UNAVAILABLE', 'the identity provider could not be reached');
  }
}
