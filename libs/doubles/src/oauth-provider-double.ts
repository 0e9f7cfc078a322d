import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A test double of an OAuth 2.0 provider's token endpoint (RFC 6749 §6, refresh_token grant, the
 * way Google's https://oauth2.googleapis.com/token answers) and revocation endpoint (RFC 7009). It
 * checks client credentials, honours scope subsets, can rotate refresh tokens, answers
 * `invalid_grant` for revoked or unknown ones, can be slow or down, and counts what it did.
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
  readonly revoked: string[] = [];
  readonly issuedAccessTokens: string[] = [];
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
        if (double.down) return reply(503, { error: 'temporarily_unavailable' });
        if (
          form.get('client_id') !== double.clientId ||
          form.get('client_secret') !== double.clientSecret
        ) {
          return reply(401, { error: 'invalid_client' });
        }
        if (request.url === '/revoke') {
          double.revoked.push(form.get('token') ?? '');
          double.grants.delete(form.get('token') ?? '');
          return reply(200, {});
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
