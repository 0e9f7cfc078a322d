import type { Request } from 'express';
import * as client from 'openid-client';
import passport from 'passport';
import type { GatewayConfig } from '../config.js';
import type { FlowStateStore } from './flow-state.store.js';
import type { ProviderOutcome, StepOptions } from './provider-outcome.js';

type OidcConfig = NonNullable<GatewayConfig['oidc']>;

/** The provider's token endpoint refused the code (used, expired, or for another client). */
export class CodeRefused extends Error {
  constructor(readonly oauthCode: string) {
    super(`the identity provider refused the authorization code (${oauthCode})`);
    this.name = 'CodeRefused';
  }
}

/**
 * Sign-in with any OpenID Connect provider (Keycloak, Authentik, Entra ID, Okta…) through
 * openid-client, as a passport strategy: discovery on first use, the authorization code flow
 * with `state` from the gateway's flow store, PKCE (S256) and a nonce, and the ID token verified
 * by openid-client (signature against the provider's keys, issuer, audience, expiry, nonce).
 */
export class OidcStrategy extends passport.Strategy {
  override name = 'oidc';
  // Each request runs on a copy of the strategy (Object.create): shared state lives in an object.
  private readonly discovered: { configuration?: Promise<client.Configuration> } = {};

  constructor(
    private readonly oidc: OidcConfig,
    private readonly store: FlowStateStore,
    private readonly options: { timeoutMs: number; allowHttp: boolean },
  ) {
    super();
  }

  override authenticate(request: Request, options: StepOptions): void {
    const query = request.query as Record<string, unknown>;
    const step =
      typeof query.code === 'string' ? this.finish(request, options) : this.begin(request, options);
    step.catch((error: unknown) =>
      this.error(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private async begin(request: Request, options: StepOptions): Promise<void> {
    const configuration = await this.discover();
    const verifier = client.randomPKCECodeVerifier();
    const state = await new Promise<string>((resolve, reject) =>
      this.store.store(request, verifier, options.state as never, undefined, (error, handle) =>
        error === null && handle !== undefined
          ? resolve(handle)
          : reject(error ?? new Error('no state')),
      ),
    );
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: options.callbackURL,
      scope: (options.scope ?? ['openid', 'email', 'profile']).join(' '),
      state,
      nonce: options.nonce ?? '',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    });
    this.redirect(url.href);
  }

  private async finish(request: Request, options: StepOptions): Promise<void> {
    const query = request.query as Record<string, unknown>;
    const state = typeof query.state === 'string' ? query.state : undefined;
    const verified = await new Promise<{ verifier: string; nonce: string } | { refusal: string }>(
      (resolve, reject) =>
        this.store.verify(request, state, undefined, (error, ok, info) => {
          if (error !== null) reject(error);
          else if (ok === false)
            resolve({ refusal: (info as { message?: string }).message ?? 'refused' });
          else resolve({ verifier: ok, nonce: (info as { nonce: string }).nonce });
        }),
    );
    if ('refusal' in verified) {
      this.fail({ message: verified.refusal }, 403);
      return;
    }
    const configuration = await this.discover();
    const currentUrl = new URL(options.callbackURL);
    for (const [name, value] of Object.entries(query)) {
      if (typeof value === 'string') currentUrl.searchParams.set(name, value);
    }
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: verified.verifier,
        expectedState: state,
        expectedNonce: verified.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (error instanceof client.ResponseBodyError) throw new CodeRefused(error.error);
      if (error instanceof client.AuthorizationResponseError) throw new CodeRefused(error.error);
      throw error;
    }
    const claims = tokens.claims();
    if (claims === undefined || typeof claims.email !== 'string') {
      this.fail(
        { message: 'the ID token carries no email address (the email scope is required)' },
        403,
      );
      return;
    }
    const outcome: ProviderOutcome = {
      identity: {
        provider: 'oidc',
        issuer: claims.iss,
        subject: claims.sub,
        email: claims.email.slice(0, 320),
        emailVerified: claims.email_verified === true,
        displayName: typeof claims.name === 'string' ? claims.name.slice(0, 200) : null,
      },
      grantedScopes: tokens.scope?.split(' ').filter(Boolean) ?? [],
    };
    this.success(outcome);
  }

  /** Discovery once, retried on the next flow if it failed. */
  private discover(): Promise<client.Configuration> {
    this.discovered.configuration ??= client
      .discovery(
        new URL(this.oidc.issuer),
        this.oidc.clientId,
        undefined,
        client.ClientSecretPost(this.oidc.clientSecret),
        {
          timeout: Math.ceil(this.options.timeoutMs / 1000),
          execute: this.options.allowHttp ? [client.allowInsecureRequests] : [],
        },
      )
      .catch((error: unknown) => {
        this.discovered.configuration = undefined;
        throw error;
      });
    return this.discovered.configuration;
  }
}
