import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, {
  errors,
  interactionPolicy,
  type Adapter,
  type AdapterFactory,
  type AdapterPayload,
  type Configuration,
  type JWK,
  type KoaContextWithOIDC,
} from 'oidc-provider';

/** The person who signs in at the double's authorisation endpoint. */
export interface OidcDoubleUser {
  sub: string;
  email: string;
  /** Defaults to true. */
  emailVerified?: boolean;
  name?: string;
}

/** The Google API scopes HeroAgent asks for, opaque to the provider like Google's own. */
export const GOOGLE_API_SCOPES = [
  'gmail.readonly',
  'gmail.send',
  'gmail.modify',
  'calendar.readonly',
  'calendar.events',
].map((name) => `https://www.googleapis.com/auth/${name}`);

/** Google's consent screen does not let a person untick these. */
const SIGN_IN_SCOPES = ['openid', 'email', 'profile'];

/** Paths shaped like Google's (accounts.google.com/o/oauth2/v2/auth, oauth2.googleapis.com/token, ...). */
const ROUTES = {
  authorization: '/o/oauth2/v2/auth',
  token: '/token',
  userinfo: '/v1/userinfo',
  revocation: '/revoke',
  jwks: '/oauth2/v3/certs',
} as const;

const INTERACTION_PATH = /^\/interaction\/([\w-]+)$/;
const DAY = 24 * 60 * 60;

/**
 * A test double of Google's OAuth 2.0 / OpenID Connect endpoints (authorization code flow with PKCE,
 * `access_type=offline` refresh tokens, RFC 7009 revocation, RS256 id_tokens carrying `email`,
 * `email_verified` and `name`), built on the real `oidc-provider` package and served over plain
 * HTTP on 127.0.0.1. Authorisation completes through redirects alone: the person who signs in and
 * consents is whoever `nextUser` named, with no page to fill in.
 *
 * The provider keeps no state in the browser: every request is served as if from a fresh browser
 * (its session cookie is ignored) and the interaction/resume cookies are derived from the URL, so a
 * client needs no cookie jar for this origin and every authorisation goes through a new sign-in.
 */
export class OidcProviderDouble {
  /** Tokens posted to the revocation endpoint, in order, whether or not they were known. */
  readonly revokedTokens: string[] = [];
  private readonly users = new Map<string, OidcDoubleUser>();
  private readonly offlineGrants = new Set<string>();
  private readonly grantedScopesBySub = new Map<string, Set<string>>();
  private user: OidcDoubleUser = {
    sub: '100000000000000000001',
    email: 'person@example.com',
    name: 'Test Person',
  };
  private denial: string | undefined;
  private grantOnly: string[] | undefined;
  private lastParams: URLSearchParams | undefined;
  private tokenRequestCount = 0;
  private provider!: Provider;
  private server!: Server;

  private constructor(
    readonly issuer: string,
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    this.users.set(this.user.sub, this.user);
  }

  /** Starts the provider on a free port with one confidential client allowed these redirect URIs. */
  static async start(options: {
    redirectUris: string[];
    extraScopes?: string[];
    /** How long an access token lasts (Google's: 3599 s, the default). */
    accessTokenTtlS?: number;
  }): Promise<OidcProviderDouble> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const double = new OidcProviderDouble(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      `${randomBytes(6).toString('hex')}.apps.googleusercontent.example`,
      `GOCSPX-${randomBytes(18).toString('base64url')}`,
    );
    double.server = server;
    double.provider = new Provider(double.issuer, double.configuration(options));
    double.provider.use(async (ctx: KoaContextWithOIDC, next) => {
      await next();
      const token = ctx.oidc?.route === 'revocation' ? ctx.oidc.params?.token : undefined;
      if (typeof token === 'string') double.revokedTokens.push(token);
    });
    const callback = double.provider.callback();
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      double.handle(request, response, callback).catch((error: unknown) => {
        const status = error instanceof errors.OIDCProviderError ? error.statusCode : 500;
        const body =
          error instanceof errors.OIDCProviderError
            ? { error: error.error, error_description: error.error_description }
            : { error: 'server_error', error_description: String(error) };
        if (!response.headersSent)
          response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      });
    });
    return double;
  }

  get authorizeUrl(): string {
    return `${this.issuer}${ROUTES.authorization}`;
  }

  get tokenUrl(): string {
    return `${this.issuer}${ROUTES.token}`;
  }

  get userInfoUrl(): string {
    return `${this.issuer}${ROUTES.userinfo}`;
  }

  get revocationUrl(): string {
    return `${this.issuer}${ROUTES.revocation}`;
  }

  get jwksUrl(): string {
    return `${this.issuer}${ROUTES.jwks}`;
  }

  /** The OpenID Connect discovery document (what openid-client's `discovery()` reads). */
  get discoveryUrl(): string {
    return `${this.issuer}/.well-known/openid-configuration`;
  }

  /** How many times the token endpoint was called, for any grant. */
  get tokenRequests(): number {
    return this.tokenRequestCount;
  }

  /**
   * What an access token this provider issued grants (RFC 7662 introspection, in substance):
   * its scopes and the signed-in person's email; undefined for an unknown or expired token.
   */
  async introspect(token: string): Promise<{ scopes: string[]; account: string } | undefined> {
    const found = await this.provider.AccessToken.find(token);
    if (found === undefined || found.isExpired) return undefined;
    const user = this.users.get(found.accountId);
    if (user === undefined) return undefined;
    return { scopes: (found.scope ?? '').split(' ').filter(Boolean), account: user.email };
  }

  /** Who signs in (and consents) at the next authorisation request; stays until changed. */
  nextUser(user: OidcDoubleUser): void {
    this.user = user;
    this.users.set(user.sub, user);
  }

  /** The next authorisation request is refused: the browser is redirected back with `error` and the state. One-shot. */
  denyNext(error = 'access_denied'): void {
    this.denial = error;
  }

  /**
   * The scopes granted at the next consent are only these, plus `openid email profile` when
   * requested (Google's consent screen cannot untick those). One-shot.
   */
  grantOnlyNext(scopes: string[]): void {
    this.grantOnly = scopes;
  }

  /** The query of the most recent authorisation request, exactly as received. */
  lastAuthorizationParams(): URLSearchParams | undefined {
    return this.lastParams === undefined ? undefined : new URLSearchParams(this.lastParams);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(
    request: IncomingMessage,
    response: ServerResponse,
    callback: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  ): Promise<void> {
    const url = new URL(request.url ?? '/', this.issuer);
    // Browser state comes from the URL alone (see the class comment): a remembered session would
    // skip the sign-in that `nextUser` drives, and make oidc-provider ask to log out on a switch.
    delete request.headers.cookie;
    const interactionUid = INTERACTION_PATH.exec(url.pathname)?.[1];
    if (interactionUid !== undefined && request.method === 'GET') {
      request.headers.cookie = `${this.provider.cookieName('interaction')}=${interactionUid}`;
      return this.completeInteraction(request, response);
    }
    if (url.pathname.startsWith(`${ROUTES.authorization}/`)) {
      const uid = url.pathname.slice(ROUTES.authorization.length + 1);
      request.headers.cookie = `${this.provider.cookieName('resume')}=${uid}`;
    } else if (url.pathname === ROUTES.authorization && request.method === 'GET') {
      this.lastParams = new URLSearchParams(url.search);
      const widened = this.withPreviouslyGrantedScopes(url.searchParams);
      if (widened !== url.searchParams) request.url = `${url.pathname}?${widened.toString()}`;
    } else if (url.pathname === ROUTES.token && request.method === 'POST') {
      this.tokenRequestCount += 1;
    }
    await callback(request, response);
  }

  /** Google's incremental authorisation: `include_granted_scopes=true` adds what was granted before. */
  private withPreviouslyGrantedScopes(params: URLSearchParams): URLSearchParams {
    const previous = this.grantedScopesBySub.get(this.user.sub);
    if (params.get('include_granted_scopes') !== 'true' || previous === undefined) return params;
    const scopes = new Set((params.get('scope') ?? '').split(' ').filter(Boolean));
    const widened = new URLSearchParams(params);
    widened.set('scope', [...scopes, ...[...previous].filter((s) => !scopes.has(s))].join(' '));
    return widened;
  }

  /** The person signs in as `nextUser` and consents, or refuses when `denyNext` was called. */
  private async completeInteraction(request: IncomingMessage, response: ServerResponse) {
    const { params } = await this.provider.interactionDetails(request, response);
    if (this.denial !== undefined) {
      const error = this.denial;
      this.denial = undefined;
      this.grantOnly = undefined;
      return this.provider.interactionFinished(
        request,
        response,
        { error, error_description: 'The user did not grant access.' },
        { mergeWithLastSubmission: false },
      );
    }
    const requested = typeof params.scope === 'string' ? params.scope.split(' ') : [];
    const allowed = this.grantOnly;
    this.grantOnly = undefined;
    const granted = requested.filter(
      (scope) => allowed === undefined || allowed.includes(scope) || SIGN_IN_SCOPES.includes(scope),
    );
    const rejected = requested.filter((scope) => !granted.includes(scope));
    const grant = new this.provider.Grant({ accountId: this.user.sub, clientId: this.clientId });
    grant.addOIDCScope(granted);
    if (rejected.length > 0) grant.rejectOIDCScope(rejected);
    const grantId = await grant.save();
    if (params.access_type === 'offline') this.offlineGrants.add(grantId);
    const remembered = this.grantedScopesBySub.get(this.user.sub) ?? new Set<string>();
    for (const scope of granted) remembered.add(scope);
    this.grantedScopesBySub.set(this.user.sub, remembered);
    return this.provider.interactionFinished(
      request,
      response,
      { login: { accountId: this.user.sub }, consent: { grantId }, select_account: {} },
      { mergeWithLastSubmission: false },
    );
  }

  private configuration(options: {
    redirectUris: string[];
    extraScopes?: string[];
    accessTokenTtlS?: number;
  }) {
    const policy = interactionPolicy.base();
    // Google accepts prompt=select_account; the sign-in this double always does resolves it.
    policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }));
    const signingKey = {
      ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
      kid: randomBytes(8).toString('hex'),
      alg: 'RS256',
      use: 'sig',
    } as JWK;
    const configuration: Configuration = {
      adapter: inMemoryAdapter(),
      clients: [
        {
          client_id: this.clientId,
          client_secret: this.clientSecret,
          redirect_uris: options.redirectUris,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
      responseTypes: ['code'],
      scopes: [
        ...SIGN_IN_SCOPES,
        'offline_access',
        ...GOOGLE_API_SCOPES,
        ...(options.extraScopes ?? []),
      ],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      // Google puts email, email_verified and name in the id_token, not only at userinfo.
      conformIdTokenClaims: false,
      jwks: { keys: [signingKey] },
      extraParams: {
        access_type: (_ctx, value) => {
          if (value !== undefined && value !== 'online' && value !== 'offline')
            throw new errors.InvalidRequest(`Invalid access_type: ${value}`);
        },
        include_granted_scopes: null,
        hd: null,
        enable_granular_consent: null,
      },
      features: {
        devInteractions: { enabled: false },
        revocation: {
          enabled: true,
          allowedPolicy: (_ctx, client, token) => {
            if ('accountId' in token && typeof token.accountId === 'string')
              this.grantedScopesBySub.delete(token.accountId);
            return token.clientId === client.clientId;
          },
        },
        rpInitiatedLogout: { enabled: false },
        pushedAuthorizationRequests: { enabled: false },
        dPoP: { enabled: false },
      },
      interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx, sub) => {
        const user = this.users.get(sub);
        if (user === undefined) return undefined;
        return {
          accountId: sub,
          claims: () => ({
            sub,
            email: user.email,
            email_verified: user.emailVerified ?? true,
            ...(user.name === undefined ? {} : { name: user.name }),
          }),
        };
      },
      // Google issues a refresh token when the authorisation request said access_type=offline.
      issueRefreshToken: (_ctx, client, code) =>
        client.grantTypeAllowed('refresh_token') &&
        (code.scopes.has('offline_access') ||
          (code.grantId !== undefined && this.offlineGrants.has(code.grantId))),
      // Google's tokens outlive the browser session and its refresh tokens are not rotated.
      expiresWithSession: () => false,
      rotateRefreshToken: false,
      renderError: (ctx, out) => {
        ctx.type = 'json';
        ctx.body = out;
      },
      clientBasedCORS: () => true,
      routes: ROUTES,
      ttl: {
        AccessToken: options.accessTokenTtlS ?? 3599,
        AuthorizationCode: 600,
        IdToken: 3600,
        RefreshToken: 180 * DAY,
        Grant: 180 * DAY,
        Interaction: 600,
        Session: 600,
      },
    };
    return configuration;
  }
}

/** oidc-provider's storage, in memory and per start (its own in-memory adapter warns on use). */
function inMemoryAdapter(): AdapterFactory {
  const records = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const live = (key: string) => {
    const record = records.get(key);
    if (record !== undefined && record.expiresAt <= Date.now()) records.delete(key);
    return record !== undefined && record.expiresAt > Date.now() ? record.payload : undefined;
  };
  const findBy = (model: string, matches: (payload: AdapterPayload) => boolean) => {
    for (const key of records.keys()) {
      const payload = key.startsWith(`${model}:`) ? live(key) : undefined;
      if (payload !== undefined && matches(payload)) return payload;
    }
    return undefined;
  };
  return (model): Adapter => ({
    upsert: (id, payload, expiresIn) => {
      const expiresAt = expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000;
      records.set(`${model}:${id}`, { payload, expiresAt });
      return Promise.resolve();
    },
    find: (id) => Promise.resolve(live(`${model}:${id}`)),
    findByUid: (uid) => Promise.resolve(findBy(model, (payload) => payload.uid === uid)),
    findByUserCode: (userCode) =>
      Promise.resolve(findBy(model, (payload) => payload.userCode === userCode)),
    consume: (id) => {
      const payload = live(`${model}:${id}`);
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    },
    destroy: (id) => {
      records.delete(`${model}:${id}`);
      return Promise.resolve();
    },
    revokeByGrantId: (grantId) => {
      for (const [key, { payload }] of records) {
        if (key.startsWith(`${model}:`) && payload.grantId === grantId) records.delete(key);
      }
      return Promise.resolve();
    },
  });
}
