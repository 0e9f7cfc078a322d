import { ContractError } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type {
  ConnectionsRepository,
  StoredConnection,
} from '../connections/connections.repository.js';
import { OAuthError, type OAuthClient } from '../oauth/oauth-client.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import { fromSecrets } from '../secrets/secrets-errors.js';
import { TokenCache, type CachedToken } from './token-cache.js';

/** An access token ready to hand over (to be sealed), never past its expiry. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly scopes: string[];
}

/**
 * Access tokens for connections: checks the connection and the scopes, serves a cached token
 * while it has more than the margin left, and otherwise refreshes it with the provider, once per
 * connection however many requests arrive together (later ones wait and then find it cached).
 * A rotated refresh token replaces the stored one; `invalid_grant` marks the connection broken.
 * Tokens live in memory only.
 */
export class TokenService {
  private readonly cache: TokenCache;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly secrets: SecretsBackend,
    private readonly oauth: OAuthClient,
    private readonly options: { ttlMs: number; refreshMarginMs: number; maxCached?: number },
    private readonly logger: Logger,
  ) {
    this.cache = new TokenCache(options.maxCached ?? 100_000);
  }

  async issue(request: {
    tenantId: string;
    userId: string;
    connectionId: string;
    scopes: readonly string[];
  }): Promise<IssuedToken> {
    const connection = await this.usable(request);
    const scopes = [...new Set(request.scopes)].sort();
    const key = `${connection.row.id} ${scopes.join(' ')}`;
    const fresh = this.fresh(key);
    if (fresh !== undefined) return this.handOut(fresh);
    return this.exclusively(connection.row.id, async () => {
      const cached = this.fresh(key);
      if (cached !== undefined) return this.handOut(cached);
      const token = await this.refresh(connection, scopes);
      this.cache.set(key, token);
      return this.handOut(token);
    });
  }

  /** Forgets every cached token of a connection (revoked, re-consented, erased). */
  drop(connectionId: string): void {
    this.cache.dropConnection(connectionId);
  }

  private async usable(request: {
    tenantId: string;
    userId: string;
    connectionId: string;
    scopes: readonly string[];
  }): Promise<StoredConnection> {
    const connection = await this.connections.get(request.tenantId, request.connectionId);
    if (connection === undefined || connection.row.user_id !== request.userId) {
      throw new ContractError('CONNECTION_NOT_FOUND', 'no such connection for this person');
    }
    if (connection.row.status === 'revoked')
      throw new ContractError('CONNECTION_REVOKED', 'the connection was revoked');
    if (connection.row.status === 'needs_consent') {
      throw new ContractError(
        'CONNECTION_BROKEN',
        'the provider no longer honours this connection: the person must connect again',
      );
    }
    const missing = request.scopes.filter((scope) => !connection.row.scopes.includes(scope));
    if (missing.length > 0)
      throw new ContractError('SCOPE_NOT_GRANTED', `scopes not granted: ${missing.join(' ')}`);
    return connection;
  }

  private fresh(key: string): CachedToken | undefined {
    return this.cache.fresh(key, this.options.refreshMarginMs);
  }

  private handOut(token: CachedToken): IssuedToken {
    return {
      accessToken: token.accessToken,
      expiresAt: Math.min(token.expiresAt, Date.now() + this.options.ttlMs),
      scopes: token.scopes,
    };
  }

  private async refresh(connection: StoredConnection, scopes: string[]): Promise<CachedToken> {
    const { row } = connection;
    const ref = { tenantId: row.tenant_id, connectionId: row.id };
    const refreshToken = await fromSecrets(() => this.secrets.getRefreshToken(ref));
    if (refreshToken === undefined) {
      await this.connections.setStatus(row.tenant_id, row.id, 'needs_consent');
      throw new ContractError(
        'CONNECTION_BROKEN',
        'no refresh token is stored for this connection: the person must connect again',
      );
    }
    let refreshed;
    try {
      refreshed = await this.oauth.refresh(row.provider, refreshToken, scopes);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.failure === 'invalid_grant') {
        await this.connections.setStatus(row.tenant_id, row.id, 'needs_consent');
        this.drop(row.id);
        this.logger.warn(
          { code: 'CONNECTION_BROKEN', tenantId: row.tenant_id, connectionId: row.id },
          'provider refused the refresh token',
        );
        throw new ContractError(
          'CONNECTION_BROKEN',
          'the provider refused the refresh token (invalid_grant): the person must connect again',
        );
      }
      throw new ContractError('PROVIDER_UNAVAILABLE', error.message);
    }
    if (refreshed.refreshToken !== undefined && refreshed.refreshToken !== refreshToken) {
      await fromSecrets(() => this.secrets.putRefreshToken(ref, refreshed.refreshToken!));
    }
    await this.connections.touch(row.tenant_id, row.id);
    return {
      accessToken: refreshed.accessToken,
      expiresAt: Date.now() + refreshed.expiresInMs,
      scopes: refreshed.scopes ?? scopes,
    };
  }

  /** Runs `work` after any other work on the same connection: one refresh at a time per connection. */
  private exclusively<T>(connectionId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(connectionId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(connectionId, settled);
    void settled.then(() => {
      if (this.locks.get(connectionId) === settled) this.locks.delete(connectionId);
    });
    return next;
  }
}
