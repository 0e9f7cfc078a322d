import { Controller, Inject } from '@nestjs/common';
import {
  createDataKey,
  eraseSubject,
  issueToken,
  listConnections,
  openDataKey,
  revokeConnection,
  storeConnection,
  type RpcRequest,
} from '@heroagent/contracts';
import { RpcHandler } from '@heroagent/service';
import { ConnectionsRepository } from './connections/connections.repository.js';
import { EraseSubject } from './connections/erase-subject.js';
import { RevokeConnection } from './connections/revoke-connection.js';
import { StoreConnection } from './connections/store-connection.js';
import { DataKeys } from './keys/data-keys.js';
import { IssueToken } from './tokens/issue-token.js';

/** vault-proxy's RPCs. NATS permissions let only the gateway reach them; signatures prove it. */
@Controller()
export class VaultHandler {
  constructor(
    @Inject(IssueToken) private readonly issueToken: IssueToken,
    @Inject(StoreConnection) private readonly storeConnection: StoreConnection,
    @Inject(RevokeConnection) private readonly revokeConnection: RevokeConnection,
    @Inject(EraseSubject) private readonly eraseSubject: EraseSubject,
    @Inject(DataKeys) private readonly dataKeys: DataKeys,
    @Inject(ConnectionsRepository) private readonly connections: ConnectionsRepository,
  ) {}

  @RpcHandler(issueToken)
  issue(request: RpcRequest<typeof issueToken>) {
    return this.issueToken.execute(request);
  }

  @RpcHandler(storeConnection)
  store(request: RpcRequest<typeof storeConnection>) {
    return this.storeConnection.execute(request);
  }

  @RpcHandler(listConnections)
  async list(request: RpcRequest<typeof listConnections>) {
    return {
      connections: (await this.connections.list(request.tenantId, request.userId)).map(
        (connection) => connection.view,
      ),
    };
  }

  @RpcHandler(revokeConnection)
  revoke(request: RpcRequest<typeof revokeConnection>) {
    return this.revokeConnection.execute(request);
  }

  @RpcHandler(eraseSubject)
  erase(request: RpcRequest<typeof eraseSubject>) {
    return this.eraseSubject.execute(request);
  }

  @RpcHandler(createDataKey)
  createKey(request: RpcRequest<typeof createDataKey>) {
    return this.dataKeys.create(request);
  }

  @RpcHandler(openDataKey)
  openKey(request: RpcRequest<typeof openDataKey>) {
    return this.dataKeys.open(request);
  }
}
