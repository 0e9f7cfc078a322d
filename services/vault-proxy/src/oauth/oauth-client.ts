/** A provider's OAuth endpoints and vault-proxy's client credentials there. */
export interface ProviderEndpoints {
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  /** The ID token issuers accepted (Google's has two spellings). */
  readonly issuers: readonly string[];
  readonly tokenUrl: string;
  readonly revokeUrl: string;
}

/** Why a provider did not give a token. */
export type OAuthFailure = 'invalid_grant' | 'unavailable' | 'misconfigured';

/** What an authorization code gave (RFC 6749 §4.1.4, with OpenID Connect's `id_token`). */
export interface ExchangedCode {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly idToken: unknown;
  /** The scopes granted, from the response's `scope` (Google lists only what was granted). */
  readonly scopes: string[];
}

/**
 * How a revocation request ended: `revoked` (200), `already_invalid` (the provider says the token
 * is dead: Google answers 400 `invalid_token`), or `failed` (anything else: try again later).
 */
export interface RevocationAnswer {
  readonly outcome: 'revoked' | 'already_invalid' | 'failed';
  readonly status: number | undefined;
  /** A short, token-free description for the operator. */
  readonly detail: string;
}

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
 * The OAuth 2.0 token endpoint (authorization_code grant with PKCE, RFC 6749 §4.1 and RFC 7636;
 * refresh_token grant, §6) and revocation endpoint (RFC 7009) of each provider, with client
 * credentials in the form (client_secret_post) and a timeout. vault-proxy is the only service
 * holding the client secret of these providers.
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
    const json = await this.token(provider, 'refresh token', {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      scope: scopes.join(' '),
    });
    const expiresIn = Number(json.expires_in ?? 3600);
    return {
      accessToken: json.access_token as string,
      expiresInMs: (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000,
      scopes: typeof json.scope === 'string' ? json.scope.split(' ').filter(Boolean) : undefined,
      refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : undefined,
    };
  }

  /**
   * RFC 6749 §4.1.3 with PKCE (RFC 7636): exchanges an authorization code. `invalid_grant` means
   * the code is used, expired, issued for another redirect URI or client, or the verifier is wrong.
   */
  async exchangeCode(
    provider: string,
    code: { code: string; codeVerifier: string; redirectUri: string },
  ): Promise<ExchangedCode> {
    const json = await this.token(provider, 'authorization code', {
      grant_type: 'authorization_code',
      code: code.code,
      code_verifier: code.codeVerifier,
      redirect_uri: code.redirectUri,
    });
    return {
      accessToken: json.access_token as string,
      refreshToken:
        typeof json.refresh_token === 'string' && json.refresh_token !== ''
          ? json.refresh_token
          : undefined,
      idToken: json.id_token,
      scopes: typeof json.scope === 'string' ? json.scope.split(' ').filter(Boolean) : [],
    };
  }

  /** The ID token issuers accepted for a provider. */
  issuers(provider: string): readonly string[] {
    return this.endpoints(provider).issuers;
  }

  /** The client id vault-proxy holds for a provider (an ID token's audience). */
  clientId(provider: string): string {
    return this.endpoints(provider).clientId!;
  }

  /**
   * RFC 7009: asks the provider to revoke a refresh token (and with it the grant). Never throws:
   * every failure is an answer to retry later.
   */
  async revoke(provider: string, token: string): Promise<RevocationAnswer> {
    let endpoints: ProviderEndpoints;
    try {
      endpoints = this.endpoints(provider);
    } catch (error) {
      return { outcome: 'failed', status: undefined, detail: (error as Error).message };
    }
    let response: Response;
    try {
      response = await fetch(endpoints.revokeUrl, {
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
    } catch {
      return {
        outcome: 'failed',
        status: undefined,
        detail: 'the revocation endpoint did not answer',
      };
    }
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    const error =
      typeof json.error === 'string' ? json.error.replace(/[^a-z_]/g, '').slice(0, 64) : '';
    if (response.ok) return { outcome: 'revoked', status: response.status, detail: 'revoked' };
    if (response.status === 400 && error === 'invalid_token') {
      return { outcome: 'already_invalid', status: 400, detail: 'invalid_token' };
    }
    return {
      outcome: 'failed',
      status: response.status,
      detail: `the revocation endpoint answered ${response.status}${error === '' ? '' : ` ${error}`}`,
    };
  }

  /** One call to the token endpoint with client_secret_post; a token-free error otherwise. */
  private async token(
    provider: string,
    what: string,
    form: Record<string, string>,
  ): Promise<Record<string, unknown>> {
    const endpoints = this.endpoints(provider);
    const body = new URLSearchParams({
      ...form,
      client_id: endpoints.clientId!,
      client_secret: endpoints.clientSecret!,
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
    if (response.ok && typeof json.access_token === 'string') return json;
    const error =
      typeof json.error === 'string'
        ? json.error.replace(/[^a-z_]/g, '').slice(0, 64)
        : `status ${response.status}`;
    if (error === 'invalid_grant')
      throw new OAuthError('invalid_grant', `${provider} refused the ${what} (invalid_grant)`);
    if (response.status >= 500 || response.status === 429)
      throw new OAuthError('unavailable', `${provider} token endpoint answered ${response.status}`);
    throw new OAuthError(
      'misconfigured',
      `${provider} token endpoint refused the client (${error})`,
    );
  }

  private endpoints(provider: string): ProviderEndpoints {
    const endpoints = this.providers[provider];
    if (endpoints?.clientId === undefined || endpoints.clientSecret === undefined) {
      throw new OAuthError('misconfigured', `no OAuth client is configured for ${provider}`);
    }
    return endpoints;
  }
}
