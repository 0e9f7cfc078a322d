import { Controller, Inject } from '@nestjs/common';
import {
  acknowledgeRevocationReceipts,
  createDataKey,
  eraseSubject,
  exchangeCode,
  issueToken,
  listConnections,
  listRevocationReceipts,
  openDataKey,
  revokeConnection,
  type RpcRequest,
} from '@heroagent/contracts';
import { RpcHandler } from '@heroagent/service';
import { EraseSubject } from './connections/erase-subject.js';
import { ListConnections } from './connections/list-connections.js';
import { RevokeConnection } from './connections/revoke-connection.js';
import { DataKeys } from './keys/data-keys.js';
import { ExchangeCode } from './oauth/exchange-code.js';
import { RevocationReceipts } from './revocations/revocation-receipts.js';
import { IssueToken } from './tokens/issue-token.js';

/** vault-proxy's RPCs. NATS permissions let only the gateway reach them; signatures prove it. */
@Controller()
export class VaultHandler {
  constructor(
    @Inject(IssueToken) private readonly issueToken: IssueToken,
    @Inject(ExchangeCode) private readonly exchangeCode: ExchangeCode,
    @Inject(ListConnections) private readonly listConnections: ListConnections,
    @Inject(RevokeConnection) private readonly revokeConnection: RevokeConnection,
    @Inject(EraseSubject) private readonly eraseSubject: EraseSubject,
    @Inject(RevocationReceipts) private readonly receipts: RevocationReceipts,
    @Inject(DataKeys) private readonly dataKeys: DataKeys,
  ) {}

  @RpcHandler(issueToken)
  issue(request: RpcRequest<typeof issueToken>) {
    return this.issueToken.execute(request);
  }

  @RpcHandler(exchangeCode)
  exchange(request: RpcRequest<typeof exchangeCode>) {
    return this.exchangeCode.execute(request);
  }

  @RpcHandler(listConnections)
  list(request: RpcRequest<typeof listConnections>) {
    return this.listConnections.execute(request);
  }

  @RpcHandler(revokeConnection)
  revoke(request: RpcRequest<typeof revokeConnection>) {
    return this.revokeConnection.execute(request);
  }

  @RpcHandler(eraseSubject)
  erase(request: RpcRequest<typeof eraseSubject>) {
    return this.eraseSubject.execute(request);
  }

  @RpcHandler(listRevocationReceipts)
  listReceipts(request: RpcRequest<typeof listRevocationReceipts>) {
    return this.receipts.list(request);
  }

  @RpcHandler(acknowledgeRevocationReceipts)
  acknowledgeReceipts(request: RpcRequest<typeof acknowledgeRevocationReceipts>) {
    return this.receipts.acknowledge(request);
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
