import {
  ContractError,
  exchangeCode,
  GOOGLE_SCOPE_BUNDLES,
  type RpcRequest,
  type RpcResponse,
} from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { ConnectionsRepository } from '../connections/connections.repository.js';
import type { GrantVerifier } from '../grants/grant-verifier.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import { fromSecrets } from '../secrets/secrets-errors.js';
import type { TokenService } from '../tokens/token-service.js';
import { checkIdToken, IdTokenRefused } from './id-token.js';
import { OAuthError, type ExchangedCode, type OAuthClient } from './oauth-client.js';

type Grant = RpcRequest<typeof exchangeCode>['grant'];
type Answer = RpcResponse<typeof exchangeCode>;

/** The Google API scopes HeroAgent uses: a connection records those of them that were granted. */
const API_SCOPES: readonly string[] = Object.values(GOOGLE_SCOPE_BUNDLES);

/**
 * `vault.oauth.exchange`: the authorization code exchange, done where the client secret is. The
 * gateway verified the callback's state and sends the flow's PKCE verifier, redirect URI and
 * nonce in a signed grant (so the request can be neither altered nor replayed). The ID token is
 * checked claim by claim against this provider, client and nonce. Signing in keeps no token; a
 * connection stores the refresh token with exactly the API scopes the provider says it granted
 * (a person may untick some); the access token of the exchange is never handed out.
 */
export class ExchangeCode {
  constructor(
    private readonly grants: GrantVerifier,
    private readonly oauth: OAuthClient,
    private readonly secrets: SecretsBackend,
    private readonly connections: ConnectionsRepository,
    private readonly tokens: TokenService,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async execute(request: RpcRequest<typeof exchangeCode>): Promise<Answer> {
    const grant = await this.grants.verify(exchangeCode, request);
    const exchanged = await this.exchange(grant);
    let claims;
    try {
      claims = checkIdToken(exchanged.idToken, {
        issuers: this.oauth.issuers(grant.provider),
        clientId: this.oauth.clientId(grant.provider),
        nonce: grant.nonce,
        now: this.now(),
      });
    } catch (error) {
      if (!(error instanceof IdTokenRefused)) throw error;
      throw new ContractError('OAUTH_STATE_INVALID', error.message);
    }
    const identity = {
      provider: grant.provider,
      // Google's two spellings of its issuer are one identity provider.
      issuer: this.oauth.issuers(grant.provider)[0]!,
      subject: claims.sub,
      email: claims.email,
      emailVerified: claims.emailVerified,
      displayName: claims.name,
    };
    if (grant.intent.purpose === 'sign_in') {
      // Signing in asks for no offline access; a refresh token that came anyway is not kept (and
      // not revoked: with incremental consent, revoking it would revoke the person's connection).
      return { identity, grantedScopes: exchanged.scopes };
    }
    const { tenantId, userId, requestedScopes } = grant.intent;
    if (exchanged.refreshToken === undefined) {
      throw new ContractError(
        'OAUTH_DENIED',
        'Google granted no offline access, so HeroAgent cannot act for this account',
      );
    }
    const granted = exchanged.scopes.filter((scope) => API_SCOPES.includes(scope));
    if (!requestedScopes.some((scope) => granted.includes(scope))) {
      throw new ContractError('OAUTH_DENIED', 'none of the requested permissions was granted');
    }
    const refreshToken = exchanged.refreshToken;
    const stored = await this.connections.storeGrant(
      {
        tenantId,
        userId,
        provider: grant.provider,
        account: claims.email,
        scopes: [...new Set(granted)].sort(),
      },
      (secret) => fromSecrets(() => this.secrets.putRefreshToken(secret, refreshToken)),
    );
    if (stored.outcome === 'revoking') {
      // Revoking the old token at Google would end the new grant too: wait for the receipt.
      throw new ContractError(
        'CONFLICT',
        'this account is still being disconnected: connect it again once that is done',
      );
    }
    const { connection, created } = stored;
    // A new grant of a known account (re-consent, perhaps with fewer scopes): no cache keeps
    // serving the old one's tokens.
    if (!created)
      await this.tokens.changed(connection.row.tenant_id, connection.row.id, 'regranted');
    return {
      identity,
      grantedScopes: exchanged.scopes,
      connection: { connection: connection.view, created },
    };
  }

  private async exchange(grant: Grant): Promise<ExchangedCode> {
    try {
      return await this.oauth.exchangeCode(grant.provider, grant);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.failure === 'invalid_grant') {
        throw new ContractError(
          'OAUTH_STATE_INVALID',
          'the identity provider refused the authorization code (already used, expired, for another redirect URI or verifier, or not ours)',
        );
      }
      this.logger.warn(
        { code: 'OAUTH_EXCHANGE_FAILED', provider: grant.provider, failure: error.failure },
        error.message,
      );
      throw new ContractError(
        'PROVIDER_UNAVAILABLE',
        error.failure === 'misconfigured'
          ? 'the identity provider refused vault-proxy as a client'
          : 'the identity provider could not be reached',
      );
    }
  }
}
