/** A provider's OAuth endpoints and vault-proxy's client credentials there. */
export interface ProviderEndpoints {
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  readonly tokenUrl: string;
  readonly revokeUrl: string;
}

/** Why a provider did not give a token. */
export type OAuthFailure = 'invalid_grant' | 'unavailable' | 'misconfigured';

/** A provider refusal or outage; the message never contains a token. */
export class OAuthError extends Error {
  constructor(
    readonly failure: OAuthFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OAuthError';
  }
}

/** What a refresh gave. */
export interface RefreshedToken {
  readonly accessToken: string;
  readonly expiresInMs: number;
  readonly scopes: string[] | undefined;
  /** Present when the provider rotated the refresh token: the new one must replace the old. */
  readonly refreshToken: string | undefined;
}

/**
 * The OAuth 2.0 token endpoint (refresh_token grant, RFC 6749 §6) and revocation endpoint (RFC
 * 7009) of each provider, with client credentials in the form (client_secret_post) and a timeout.
 */
export class OAuthClient {
  constructor(
    private readonly providers: Readonly<Record<string, ProviderEndpoints>>,
    private readonly timeoutMs: number,
  ) {}

  async refresh(
    provider: string,
    refreshToken: string,
    scopes: readonly string[],
  ): Promise<RefreshedToken> {
    const endpoints = this.endpoints(provider);
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: endpoints.clientId!,
      client_secret: endpoints.clientSecret!,
      scope: scopes.join(' '),
    });
    let response: Response;
    try {
      response = await fetch(endpoints.tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new OAuthError('unavailable', `${provider} token endpoint did not answer`);
    }
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.ok && typeof json.access_token === 'string') {
      const expiresIn = Number(json.expires_in ?? 3600);
      return {
        accessToken: json.access_token,
        expiresInMs: (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000,
        scopes: typeof json.scope === 'string' ? json.scope.split(' ').filter(Boolean) : undefined,
        refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : undefined,
      };
    }
    const error = typeof json.error === 'string' ? json.error : `status ${response.status}`;
    if (error === 'invalid_grant')
      throw new OAuthError(
        'invalid_grant',
        `${provider} refused the refresh token (invalid_grant)`,
      );
    if (response.status >= 500 || response.status === 429)
      throw new OAuthError('unavailable', `${provider} token endpoint answered ${response.status}`);
    throw new OAuthError(
      'misconfigured',
      `${provider} token endpoint refused the client (${error})`,
    );
  }

  /** RFC 7009: asks the provider to revoke a token. True when it confirmed (200). */
  async revoke(provider: string, token: string): Promise<boolean> {
    const endpoints = this.endpoints(provider);
    try {
      const response = await fetch(endpoints.revokeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token,
          token_type_hint: 'refresh_token',
          client_id: endpoints.clientId!,
          client_secret: endpoints.clientSecret!,
        }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return response.ok;
    } catch {
      return false;
    }
  }

  private endpoints(provider: string): ProviderEndpoints {
    const endpoints = this.providers[provider];
    if (endpoints?.clientId === undefined || endpoints.clientSecret === undefined) {
      throw new OAuthError('misconfigured', `no OAuth client is configured for ${provider}`);
    }
    return endpoints;
  }
}
