import {
  ContractError,
  revokeConnection,
  type Revocation,
  type RpcRequest,
} from '@heroagent/contracts';
import type { GrantVerifier } from '../grants/grant-verifier.js';
import type { RevocationWorker } from '../revocations/revocation-worker.js';
import type { RevocationsRepository } from '../revocations/revocations.repository.js';
import type { TokenService } from '../tokens/token-service.js';
import type { ConnectionsRepository, StoredConnection } from './connections.repository.js';

/**
 * `vault.connections.revoke` (and erasure's first step): the connection becomes `revoking` and
 * its revocation is queued, both at once; this replica forgets its cached tokens (the others
 * refuse the connection by its status before looking at theirs), every gateway replica is told
 * to forget its own (`vault.connections.changed`, before this answers) and the revocation is
 * tried now.
 * The provider's confirmation, the deletion of the refresh token and the receipt follow in the
 * worker, retried until the provider answers.
 */
export class RevokeConnection {
  constructor(
    private readonly grants: GrantVerifier,
    private readonly connections: ConnectionsRepository,
    private readonly revocations: RevocationsRepository,
    private readonly tokens: TokenService,
    private readonly worker: RevocationWorker,
  ) {}

  async execute(request: RpcRequest<typeof revokeConnection>) {
    const grant = await this.grants.verify(revokeConnection, request);
    const connection = await this.connections.get(grant.tenantId, grant.connectionId);
    if (connection === undefined)
      throw new ContractError('CONNECTION_NOT_FOUND', 'no such connection');
    if (connection.row.status === 'revoked') {
      // Already done: the same receipt again, not a second revocation.
      const done = (await this.revocations.latest(grant.tenantId, [connection.row.id])).get(
        connection.row.id,
      );
      if (done !== undefined)
        return { connection: { ...connection.view, revocation: done }, revocation: done };
    }
    const queued = await this.queue(connection, 'disconnect');
    return {
      connection: { ...queued.connection.view, revocation: queued.revocation },
      revocation: queued.revocation,
    };
  }

  async queue(
    connection: StoredConnection,
    reason: Revocation['reason'],
  ): Promise<{ connection: StoredConnection; revocation: Revocation }> {
    const queued = await this.connections.beginRevocation(connection, reason, this.revocations);
    await this.tokens.changed(
      connection.row.tenant_id,
      connection.row.id,
      reason === 'disconnect' ? 'revoked' : 'erased',
    );
    this.worker.nudge();
    return queued;
  }
}
