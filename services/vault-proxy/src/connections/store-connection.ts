import {
  ContractError,
  SEALED_REFRESH_TOKEN_PURPOSE,
  storeConnection,
  type Connection,
  type RpcRequest,
} from '@heroagent/contracts';
import type { GrantVerifier } from '../grants/grant-verifier.js';
import type { GatewaySealing } from '../sealing.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import { fromSecrets } from '../secrets/secrets-errors.js';
import type { TokenService } from '../tokens/token-service.js';
import type { ConnectionsRepository } from './connections.repository.js';

/** `vault.connections.store`: keeps a refresh token the gateway received from an OAuth callback. */
export class StoreConnection {
  constructor(
    private readonly grants: GrantVerifier,
    private readonly sealing: GatewaySealing,
    private readonly secrets: SecretsBackend,
    private readonly connections: ConnectionsRepository,
    private readonly tokens: TokenService,
  ) {}

  async execute(request: RpcRequest<typeof storeConnection>): Promise<Connection> {
    const grant = await this.grants.verify(storeConnection, request);
    const existing = await this.connections.get(grant.tenantId, grant.connectionId);
    if (
      existing !== undefined &&
      (existing.row.user_id !== grant.userId || existing.row.provider !== grant.provider)
    ) {
      throw new ContractError(
        'CONFLICT',
        'this connection id belongs to another person or provider',
      );
    }
    const refreshToken = this.sealing
      .fromGateway(grant.refreshToken, SEALED_REFRESH_TOKEN_PURPOSE)
      .toString('utf8');
    const version = await fromSecrets(() =>
      this.secrets.putRefreshToken(
        { tenantId: grant.tenantId, connectionId: grant.connectionId },
        refreshToken,
      ),
    );
    const stored = await this.connections.upsert({
      id: grant.connectionId,
      tenantId: grant.tenantId,
      userId: grant.userId,
      provider: grant.provider,
      account: grant.account,
      scopes: [...new Set(grant.scopes)].sort(),
      secretVersion: version,
    });
    if (stored === undefined)
      throw new ContractError(
        'CONFLICT',
        'this connection id belongs to another person or provider',
      );
    this.tokens.drop(grant.connectionId);
    return stored.view;
  }
}
