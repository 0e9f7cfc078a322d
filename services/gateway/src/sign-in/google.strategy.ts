import type { Request } from 'express';
import { Strategy as PassportGoogleStrategy } from 'passport-google-oauth20';
import type { StateStore } from 'passport-oauth2';
import type { GatewayConfig } from '../config.js';
import type { FlowStateStore } from './flow-state.store.js';

type GoogleConfig = NonNullable<GatewayConfig['google']>;

/**
 * Where a token request would go, were passport ever to make one: a name that never resolves.
 * The gateway holds no Google client secret, and vault-proxy exchanges every Google code.
 */
const NO_TOKEN_ENDPOINT = 'https://vault-proxy.invalid/google-codes-are-exchanged-by-vault-proxy';

/**
 * The first half of Google sign-in and account connection, through passport-google-oauth20: the
 * redirect to Google with `state` from the gateway's flow store, PKCE (S256), a `nonce`, and for
 * the connect flow offline access with incremental consent. The second half is not passport's:
 * the callback's code goes to vault-proxy (`vault.oauth.exchange`, see OAuthFlows), which alone
 * holds the client secret, so no token from Google's token endpoint ever reaches the gateway.
 */
export class GoogleStrategy extends PassportGoogleStrategy {
  constructor(google: GoogleConfig, store: FlowStateStore) {
    super(
      {
        clientID: google.clientId,
        clientSecret: '',
        authorizationURL: google.authorizeUrl,
        tokenURL: NO_TOKEN_ENDPOINT,
        passReqToCallback: true,
        pkce: true,
        state: true,
        skipUserProfile: true,
        // passport-oauth2 picks the PKCE form of a store by the arity of `store`.
        store: store as unknown as StateStore,
      },
      (_request: Request, ...rest: unknown[]) => {
        const done = rest.at(-1) as (error: Error) => void;
        done(new Error('Google codes are exchanged by vault-proxy, never here'));
      },
    );
  }

  /** Only ever starts a flow: a callback (a code or an error) is refused, not exchanged. */
  override authenticate(request: Request, options?: object): void {
    const query = request.query as Record<string, unknown>;
    if (query.code !== undefined || query.error !== undefined) {
      this.error(new Error('Google callbacks are finished through vault-proxy, not passport'));
      return;
    }
    super.authenticate(request, options);
  }

  /** Google's parameters (access type, prompt, incremental consent, login hint), and the nonce. */
  override authorizationParams(options: Record<string, unknown>): object {
    const params = super.authorizationParams(options) as Record<string, string>;
    if (typeof options.nonce === 'string') params.nonce = options.nonce;
    return params;
  }
}
