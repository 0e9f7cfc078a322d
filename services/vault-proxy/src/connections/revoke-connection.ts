import { ContractError, revokeConnection, type RpcRequest } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { GrantVerifier } from '../grants/grant-verifier.js';
import type { OAuthClient } from '../oauth/oauth-client.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import { fromSecrets } from '../secrets/secrets-errors.js';
import type { TokenService } from '../tokens/token-service.js';
import type { ConnectionsRepository, StoredConnection } from './connections.repository.js';

/**
 * Revokes a connection: at the provider (RFC 7009) with the stored refresh token, then every
 * stored version is deleted and the cache dropped. Local revocation happens even when the provider
 * cannot be reached; the answer says whether the provider confirmed.
 */
export class RevokeConnection {
  constructor(
    private readonly grants: GrantVerifier,
    private readonly secrets: SecretsBackend,
    private readonly connections: ConnectionsRepository,
    private readonly oauth: OAuthClient,
    private readonly tokens: TokenService,
    private readonly logger: Logger,
  ) {}

  async execute(request: RpcRequest<typeof revokeConnection>) {
    const grant = await this.grants.verify(revokeConnection, request);
    const connection = await this.connections.get(grant.tenantId, grant.connectionId);
    if (connection === undefined)
      throw new ContractError('CONNECTION_NOT_FOUND', 'no such connection');
    const providerRevoked = await this.revoke(connection);
    const revoked = await this.connections.setStatus(grant.tenantId, grant.connectionId, 'revoked');
    return { connection: (revoked ?? connection).view, providerRevoked };
  }

  /**
   * Revokes at the provider, deletes the secret, forgets cached tokens: as the only user of the
   * refresh token (across replicas), so no refresh under way puts a rotated one back afterwards.
   */
  async revoke(connection: StoredConnection): Promise<boolean> {
    return this.tokens.exclusively(connection.row.id, () => this.revokeHeld(connection));
  }

  private async revokeHeld(connection: StoredConnection): Promise<boolean> {
    const ref = { tenantId: connection.row.tenant_id, connectionId: connection.row.id };
    const refreshToken = await fromSecrets(() => this.secrets.getRefreshToken(ref));
    let providerRevoked = false;
    if (refreshToken !== undefined) {
      providerRevoked = await this.oauth
        .revoke(connection.row.provider, refreshToken)
        .catch(() => false);
      if (!providerRevoked) {
        this.logger.warn(
          { code: 'PROVIDER_REVOCATION_UNCONFIRMED', connectionId: connection.row.id },
          'the provider did not confirm revocation',
        );
      }
    }
    await fromSecrets(() => this.secrets.deleteRefreshToken(ref));
    this.tokens.drop(connection.row.id);
    return providerRevoked;
  }
}
