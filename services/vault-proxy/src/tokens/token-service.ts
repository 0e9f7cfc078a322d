import { ContractError } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { ConnectionChange, ConnectionChanges } from '../connections/connection-changes.js';
import {
  grantSecret,
  type ConnectionsRepository,
  type StoredConnection,
} from '../connections/connections.repository.js';
import { OAuthError, type OAuthClient } from '../oauth/oauth-client.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import { fromSecrets } from '../secrets/secrets-errors.js';
import { RefreshLockTimeout, type RefreshLocks } from './refresh-locks.js';
import { RefreshSlots } from './refresh-slots.js';
import { TokenCache, type CachedToken } from './token-cache.js';

/** An access token ready to hand over (to be sealed), with the provider's own expiry. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly scopes: string[];
}

/** How tokens are served and refreshed. */
export interface TokenOptions {
  readonly refreshMarginMs: number;
  readonly maxCached?: number;
  /** How long to wait for another replica's use of a connection's refresh token. */
  readonly refreshWaitMs: number;
  /** How many refreshes of this process may hold or wait for a refresh lock at once. */
  readonly refreshSlots?: number;
}

/**
 * Access tokens for connections: checks the connection and the scopes, serves a cached token
 * while it has more than the margin left, and otherwise refreshes it with the provider. A
 * connection's refresh token is used by one refresh at a time across every replica: first in
 * this process (later requests wait, then find the token cached), then under the connection's
 * lock in Postgres (`RefreshLocks`), re-reading the connection and its refresh token only once
 * the lock is held, so a replica that waited never spends a token another one just rotated.
 * A rotated refresh token replaces the stored one; `invalid_grant` marks the connection broken.
 * Tokens live in memory only, keyed by the connection's secret version: a re-consent through any
 * replica makes every replica's tokens of the old grant unreachable, and a revoked or broken
 * connection is refused before any cache is looked at (its row is read on every request), from
 * the moment its revocation is queued (`revoking`), on every replica.
 */
export class TokenService {
  private readonly cache: TokenCache;
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly slots: RefreshSlots;

  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly secrets: SecretsBackend,
    private readonly oauth: OAuthClient,
    private readonly locks: RefreshLocks,
    private readonly changes: ConnectionChanges,
    private readonly options: TokenOptions,
    private readonly logger: Logger,
  ) {
    this.cache = new TokenCache(options.maxCached ?? 100_000);
    this.slots = new RefreshSlots(options.refreshSlots ?? 4);
  }

  async issue(request: {
    tenantId: string;
    userId: string;
    connectionId: string;
    scopes: readonly string[];
  }): Promise<IssuedToken> {
    const connection = await this.usable(request);
    const scopes = [...new Set(request.scopes)].sort();
    const fresh = this.fresh(cacheKey(connection, scopes));
    if (fresh !== undefined) return this.handOut(fresh);
    return this.exclusively(connection.row.id, async () => {
      // What another replica did while this one waited: revoked, broken, re-consented, refreshed.
      const current = await this.usable(request);
      const key = cacheKey(current, scopes);
      const cached = this.fresh(key);
      if (cached !== undefined) return this.handOut(cached);
      const token = await this.refresh(current, scopes);
      this.cache.set(key, token);
      return this.handOut(token);
    });
  }

  /**
   * Runs `work` as the only user of the connection's refresh token, in this process and across
   * replicas (a revocation, so no refresh puts a rotated token back after it).
   */
  exclusively<T>(connectionId: string, work: () => Promise<T>): Promise<T> {
    return this.inProcess(connectionId, () =>
      this.slots.run(async () => {
        try {
          return await this.locks.holding(connectionId, this.options.refreshWaitMs, work);
        } catch (error) {
          if (!(error instanceof RefreshLockTimeout)) throw error;
          this.logger.warn(
            { code: 'REFRESH_LOCK_TIMEOUT', connectionId },
            'gave up waiting for another replica to finish with a refresh token',
          );
          throw new ContractError('PROVIDER_UNAVAILABLE', `${error.message}: try again`);
        }
      }),
    );
  }

  /** Forgets every cached token of a connection (its revocation finished). */
  drop(connectionId: string): void {
    this.cache.dropConnection(connectionId);
  }

  /**
   * A connection changed (revoked, erased, re-consented, refused by the provider): this replica
   * forgets its tokens, and every gateway replica is told to forget its own before this resolves.
   */
  async changed(tenantId: string, connectionId: string, change: ConnectionChange): Promise<void> {
    this.drop(connectionId);
    await this.changes.announce({ tenantId, connectionId, change });
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
    if (connection.row.status === 'revoked' || connection.row.status === 'revoking')
      throw new ContractError(
        'CONNECTION_REVOKED',
        `the connection was revoked (${connection.row.status})`,
      );
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
      // The provider's expiry, not a shorter label: a bearer token works until then, whatever
      // a caller is told, so what it is told is the truth.
      expiresAt: token.expiresAt,
      scopes: token.scopes,
    };
  }

  private async refresh(connection: StoredConnection, scopes: string[]): Promise<CachedToken> {
    const { row } = connection;
    const ref = grantSecret(row);
    const refreshToken = await fromSecrets(() => this.secrets.getRefreshToken(ref));
    if (refreshToken === undefined) {
      await this.connections.markNeedsConsent(row);
      await this.changed(row.tenant_id, row.id, 'broken');
      throw new ContractError(
        'CONNECTION_BROKEN',
        'no refresh token is stored for this connection: the person must connect again',
      );
    }
    let refreshed;
    // The provider counts a token's life from when it answered; counting from before the request
    // can only make ours end earlier than the real one, never later.
    const askedAt = Date.now();
    try {
      refreshed = await this.oauth.refresh(row.provider, refreshToken, scopes);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.failure === 'invalid_grant') {
        await this.connections.markNeedsConsent(row);
        await this.changed(row.tenant_id, row.id, 'broken');
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
      expiresAt: askedAt + refreshed.expiresInMs,
      scopes: refreshed.scopes ?? scopes,
    };
  }

  /**
   * Runs `work` after any other work of this process on the same connection: the first gate, so
   * one replica's waiters for a connection hold no pooled connection while they wait.
   */
  private inProcess<T>(connectionId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(connectionId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(connectionId, settled);
    void settled.then(() => {
      if (this.chains.get(connectionId) === settled) this.chains.delete(connectionId);
    });
    return next;
  }
}

/** Cache keys start with the connection id (see TokenCache.dropConnection), then its grant. */
function cacheKey(connection: StoredConnection, scopes: readonly string[]): string {
  const { row } = connection;
  return `${row.id} ${row.secret_id} v${row.secret_version} ${scopes.join(' ')}`;
}
