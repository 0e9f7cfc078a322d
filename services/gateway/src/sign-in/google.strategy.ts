import type { Request } from 'express';
import {
  Strategy as PassportGoogleStrategy,
  type GoogleCallbackParameters,
} from 'passport-google-oauth20';
import type { StateStore, VerifyCallback } from 'passport-oauth2';
import type { GatewayConfig } from '../config.js';
import type { FlowStateStore } from './flow-state.store.js';
import { verifiedFlow } from './flow-state.store.js';
import { checkIdToken, IdTokenRefused } from './id-token.js';
import type { ProviderOutcome } from './provider-outcome.js';

type GoogleConfig = NonNullable<GatewayConfig['google']>;

/**
 * Google sign-in and account connection, through passport-google-oauth20: `state` from the
 * gateway's flow store, PKCE (S256), and a `nonce` the ID token must echo. The profile is taken
 * from the ID token (checked claim by claim), not from a second call to the userinfo endpoint.
 * For the connect flow the same strategy asks for offline access with incremental consent.
 */
export class GoogleStrategy extends PassportGoogleStrategy {
  constructor(google: GoogleConfig, store: FlowStateStore, now: () => Date = () => new Date()) {
    const issuers =
      google.issuer === 'https://accounts.google.com'
        ? [google.issuer, 'accounts.google.com']
        : [google.issuer];
    super(
      {
        clientID: google.clientId,
        clientSecret: google.clientSecret,
        authorizationURL: google.authorizeUrl,
        tokenURL: google.tokenUrl,
        userProfileURL: google.userInfoUrl,
        passReqToCallback: true,
        pkce: true,
        state: true,
        skipUserProfile: true,
        // passport-oauth2 picks the PKCE form of a store by the arity of `store`.
        store: store as unknown as StateStore,
      },
      (
        request: Request,
        _accessToken: string,
        refreshToken: string | undefined,
        params: GoogleCallbackParameters,
        _profile: unknown,
        done: VerifyCallback,
      ) => {
        const flow = verifiedFlow(request);
        if (flow === undefined) {
          done(new Error('the Google callback ran without a verified flow'));
          return;
        }
        try {
          const claims = checkIdToken(params.id_token, {
            issuers,
            clientId: google.clientId,
            nonce: flow.nonce,
            now: now(),
          });
          const outcome: ProviderOutcome = {
            identity: {
              provider: 'google',
              issuer: 'https://accounts.google.com',
              subject: claims.sub,
              email: claims.email,
              emailVerified: claims.emailVerified,
              displayName: claims.name,
            },
            refreshToken:
              typeof refreshToken === 'string' && refreshToken !== '' ? refreshToken : undefined,
            grantedScopes:
              typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [],
          };
          done(null, outcome);
        } catch (error) {
          if (error instanceof IdTokenRefused) done(null, false, { message: error.message });
          else done(error instanceof Error ? error : new Error(String(error)));
        }
      },
    );
  }

  /** Google's parameters (access type, prompt, incremental consent, login hint), and the nonce. */
  override authorizationParams(options: Record<string, unknown>): object {
    const params = super.authorizationParams(options) as Record<string, string>;
    if (typeof options.nonce === 'string') params.nonce = options.nonce;
    return params;
  }
}
