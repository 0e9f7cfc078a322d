import type { listConnections, RpcRequest, RpcResponse } from '@heroagent/contracts';
import type { RevocationsRepository } from '../revocations/revocations.repository.js';
import type { ConnectionsRepository } from './connections.repository.js';

/** `vault.connections.list`: connections, each with its latest revocation (pending or its receipt). */
export class ListConnections {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly revocations: RevocationsRepository,
  ) {}

  async execute(
    request: RpcRequest<typeof listConnections>,
  ): Promise<RpcResponse<typeof listConnections>> {
    const found = await this.connections.list(request.tenantId, request.userId);
    const latest = await this.revocations.latest(
      request.tenantId,
      found.map((connection) => connection.row.id),
    );
    return {
      connections: found.map((connection) => {
        // A connection made again after a revocation does not carry the old one.
        const revocation =
          connection.row.status === 'revoking' || connection.row.status === 'revoked'
            ? latest.get(connection.row.id)
            : undefined;
        return revocation === undefined ? connection.view : { ...connection.view, revocation };
      }),
    };
  }
}
