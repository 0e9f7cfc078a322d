import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the person did at the consent screen, as {@link OAuthProviderDouble.authorize} takes it. */
export interface DoubleAuthorization {
  readonly redirectUri: string;
  /** RFC 7636 S256 challenge of the client's verifier. */
  readonly codeChallenge: string;
  readonly nonce: string;
  /** What the client asked for. */
  readonly scopes: readonly string[];
  /** Granular consent: the person left only these ticked (default: all asked). */
  readonly granted?: readonly string[];
  readonly offline?: boolean;
  readonly subject?: string;
  readonly email?: string;
  /** The refresh token to hand out (one made by `grant`, say rotating); default: a new one. */
  readonly refreshToken?: string;
}

/**
 * A test double of an OAuth 2.0 provider's token endpoint, the way Google's
 * https://oauth2.googleapis.com/token answers: the authorization_code grant (RFC 6749 §4.1.3,
 * with PKCE S256, the redirect URI checked, an `id_token` carrying the nonce, and `scope` listing
 * only what the person granted, as Google does under granular consent) and the refresh_token
 * grant (§6); and its revocation endpoint (RFC 7009 as Google answers it: 200, or 400
 * `invalid_token` for a token it does not know or already revoked). It checks client
 * credentials, honours scope subsets, can rotate refresh tokens, answers `invalid_grant` for
 * revoked or unknown ones, can be slow or down, and counts what it did.
 */
export class OAuthProviderDouble {
  refreshCalls = 0;
  /** Refreshes answered `invalid_grant` (a revoked, unknown or already rotated refresh token). */
  invalidGrants = 0;
  /** Refreshes being answered right now, and the most there ever were at once. */
  refreshesInFlight = 0;
  maxRefreshesInFlight = 0;
  latencyMs = 0;
  down = false;
  /** Only the revocation endpoint is down (503); the token endpoint answers. */
  revocationDown = false;
  readonly revoked: string[] = [];
  /** Revocation requests answered, whatever the answer (including while down). */
  revokeCalls = 0;
  readonly issuedAccessTokens: string[] = [];
  /** Refresh tokens handed out by code exchanges, in order. */
  readonly issuedRefreshTokens: string[] = [];
  private readonly codes = new Map<string, DoubleAuthorization & { issuedAt: number }>();
  private readonly grants = new Map<
    string,
    { scopes: string[]; expiresIn: number; rotate: boolean }
  >();
  private server: Server | undefined;
  private port = 0;

  private constructor(
    readonly clientId: string,
    readonly clientSecret: string,
  ) {}

  static async start(): Promise<OAuthProviderDouble> {
    const double = new OAuthProviderDouble(
      `client-${randomBytes(4).toString('hex')}.apps.example`,
      `GOCSPX-${randomBytes(12).toString('base64url')}`,
    );
    double.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const refreshing = request.url === '/token';
        if (refreshing) {
          double.refreshesInFlight += 1;
          double.maxRefreshesInFlight = Math.max(
            double.maxRefreshesInFlight,
            double.refreshesInFlight,
          );
        }
        const reply = (status: number, body: object) => {
          setTimeout(() => {
            if (refreshing) double.refreshesInFlight -= 1;
            response
              .writeHead(status, { 'content-type': 'application/json' })
              .end(JSON.stringify(body));
          }, double.latencyMs);
        };
        if (request.url === '/revoke') double.revokeCalls += 1;
        if (double.down || (request.url === '/revoke' && double.revocationDown)) {
          return reply(503, { error: 'temporarily_unavailable' });
        }
        if (
          form.get('client_id') !== double.clientId ||
          form.get('client_secret') !== double.clientSecret
        ) {
          return reply(401, { error: 'invalid_client' });
        }
        if (request.url === '/revoke') {
          const token = form.get('token') ?? '';
          if (!double.grants.delete(token)) {
            return reply(400, {
              error: 'invalid_token',
              error_description: 'Token expired or revoked',
            });
          }
          double.revoked.push(token);
          return reply(200, {});
        }
        if (request.url === '/token' && form.get('grant_type') === 'authorization_code') {
          const answer = double.exchange(form);
          return reply(answer.status, answer.body);
        }
        if (request.url !== '/token' || form.get('grant_type') !== 'refresh_token')
          return reply(400, { error: 'unsupported_grant_type' });
        double.refreshCalls += 1;
        const refreshToken = form.get('refresh_token') ?? '';
        const grant = double.grants.get(refreshToken);
        if (grant === undefined) {
          double.invalidGrants += 1;
          return reply(400, {
            error: 'invalid_grant',
            error_description: 'Token has been expired or revoked.',
          });
        }
        const asked = (form.get('scope') ?? '').split(' ').filter(Boolean);
        if (asked.some((scope) => !grant.scopes.includes(scope)))
          return reply(400, { error: 'invalid_scope' });
        const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
        double.issuedAccessTokens.push(accessToken);
        const body: Record<string, unknown> = {
          access_token: accessToken,
          expires_in: grant.expiresIn,
          scope: (asked.length > 0 ? asked : grant.scopes).join(' '),
          token_type: 'Bearer',
        };
        if (grant.rotate) {
          const next = double.grant(grant.scopes, { expiresIn: grant.expiresIn, rotate: true });
          double.grants.delete(refreshToken);
          body.refresh_token = next;
        }
        return reply(200, body);
      });
    });
    await new Promise<void>((resolve) => double.server!.listen(0, '127.0.0.1', resolve));
    double.port = (double.server.address() as AddressInfo).port;
    return double;
  }

  get tokenUrl(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }

  get revokeUrl(): string {
    return `http://127.0.0.1:${this.port}/revoke`;
  }

  /** The issuer its ID tokens name. */
  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * The person consents at the authorization endpoint: the code the browser brings back to the
   * redirect URI, usable once within ten minutes.
   */
  authorize(authorization: DoubleAuthorization): string {
    const code = `4/0A${randomBytes(24).toString('base64url')}`;
    this.codes.set(code, { ...authorization, issuedAt: Date.now() });
    return code;
  }

  /** Who consented, and to what (the access token of the exchange grants exactly that). */
  private exchange(form: URLSearchParams): { status: number; body: object } {
    const code = form.get('code') ?? '';
    const authorization = this.codes.get(code);
    this.codes.delete(code);
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (
      authorization === undefined ||
      Date.now() - authorization.issuedAt > 600_000 ||
      authorization.redirectUri !== form.get('redirect_uri') ||
      authorization.codeChallenge !== challenge
    ) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Bad Request' } };
    }
    const granted = [...(authorization.granted ?? authorization.scopes)];
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
    this.issuedAccessTokens.push(accessToken);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: this.issuer,
      aud: this.clientId,
      azp: this.clientId,
      sub: authorization.subject ?? '100000000000000000001',
      email: authorization.email ?? 'ada@example.com',
      email_verified: true,
      nonce: authorization.nonce,
      iat: now,
      exp: now + 3600,
    };
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const refreshToken =
      authorization.offline === true
        ? (authorization.refreshToken ??
          this.grant(granted.filter((scope) => scope.includes('://'))))
        : undefined;
    if (refreshToken !== undefined) this.issuedRefreshTokens.push(refreshToken);
    return {
      status: 200,
      body: {
        access_token: accessToken,
        expires_in: 3599,
        token_type: 'Bearer',
        scope: granted.join(' '),
        id_token: `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${randomBytes(32).toString('base64url')}`,
        ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      },
    };
  }

  /** Issues a refresh token for these scopes, as the authorisation code exchange would. */
  grant(scopes: string[], options: { expiresIn?: number; rotate?: boolean } = {}): string {
    const refreshToken = `1//${randomBytes(24).toString('base64url')}`;
    this.grants.set(refreshToken, {
      scopes,
      expiresIn: options.expiresIn ?? 3599,
      rotate: options.rotate ?? false,
    });
    return refreshToken;
  }

  /** The person revoked access at the provider: the refresh token now earns `invalid_grant`. */
  invalidate(refreshToken: string): void {
    this.grants.delete(refreshToken);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
