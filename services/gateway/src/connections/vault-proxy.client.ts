import { randomUUID } from 'node:crypto';
import {
  createDataKey,
  eraseSubject,
  openDataKey,
  SEALED_DATA_KEY_PURPOSE,
  issueToken,
  SEALED_TOKEN_PURPOSE,
  listConnections,
  revokeConnection,
  SEALED_REFRESH_TOKEN_PURPOSE,
  storeConnection,
  type Connection,
  type RpcContract,
  type RpcRequestInput,
  type RpcResponse,
} from '@heroagent/contracts';
import { open, seal, signJson, type SealingKey, type SigningKey } from '@heroagent/crypto';
import type { ContractClient } from '@heroagent/service';
import type { KeyObject } from 'node:crypto';

type GrantOf<C extends RpcContract> = Omit<
  RpcRequestInput<C> extends { grant: infer G } ? G : never,
  'requestId' | 'issuedAt'
>;

/**
 * The gateway's side of vault-proxy: every request that carries authority is a grant signed with
 * the gateway's key, unique and fresh; a refresh token is sealed to vault-proxy's key the moment
 * it arrives and exists in the gateway only in that sealed form.
 */
export class VaultProxyClient {
  constructor(
    private readonly client: ContractClient,
    private readonly signingKey: SigningKey,
    private readonly vaultProxySealingKey: KeyObject,
    private readonly sealingKey: SealingKey,
  ) {}

  /**
   * A short-lived access token for one connection and scopes, opened from the box vault-proxy
   * sealed it in. It lives in memory for the one call it is for, and is never logged or stored.
   */
  async accessToken(grant: {
    tenantId: string;
    userId: string;
    connectionId: string;
    scopes: string[];
  }): Promise<{ token: string; expiresAt: string; scopes: string[] }> {
    const answer = await this.signed(issueToken, grant);
    const token = open(answer.token, this.sealingKey, {
      sender: 'vault-proxy',
      recipient: 'gateway',
      purpose: SEALED_TOKEN_PURPOSE,
    }).toString('utf8');
    return { token, expiresAt: answer.expiresAt, scopes: answer.scopes };
  }

  storeConnection(
    connection: Omit<GrantOf<typeof storeConnection>, 'refreshToken'> & { refreshToken: string },
  ): Promise<Connection> {
    const { refreshToken, ...rest } = connection;
    const sealed = seal(Buffer.from(refreshToken, 'utf8'), this.vaultProxySealingKey, {
      sender: 'gateway',
      recipient: 'vault-proxy',
      purpose: SEALED_REFRESH_TOKEN_PURPOSE,
    });
    return this.signed(storeConnection, { ...rest, refreshToken: sealed });
  }

  async list(tenantId: string, userId?: string): Promise<Connection[]> {
    const answer = await this.client.request(listConnections, {
      tenantId,
      ...(userId === undefined ? {} : { userId }),
    });
    return answer.connections;
  }

  revoke(tenantId: string, connectionId: string): Promise<RpcResponse<typeof revokeConnection>> {
    return this.signed(revokeConnection, { tenantId, connectionId });
  }

  /** Every secret and data key of a person in a tenant (or of the whole tenant) destroyed. */
  erase(tenantId: string, userId?: string): Promise<RpcResponse<typeof eraseSubject>> {
    return this.signed(eraseSubject, { tenantId, ...(userId === undefined ? {} : { userId }) });
  }

  /** A new data key for a tenant or a person: its wrapped form to store, its plaintext to use. */
  async createDataKey(
    tenantId: string,
    owner: { scope: 'tenant' | 'user'; id: string },
  ): Promise<{ wrapped: string; plaintext: Buffer }> {
    const answer = await this.signed(createDataKey, { tenantId, owner });
    return { wrapped: answer.wrapped, plaintext: this.openDataKeyBox(answer.plaintext) };
  }

  /** A stored data key unwrapped; refused (`NOT_FOUND`) once its owner was erased. */
  async openDataKey(
    tenantId: string,
    owner: { scope: 'tenant' | 'user'; id: string },
    wrapped: string,
  ): Promise<Buffer> {
    const answer = await this.signed(openDataKey, { tenantId, owner, wrapped });
    return this.openDataKeyBox(answer.plaintext);
  }

  private openDataKeyBox(box: Parameters<typeof open>[0]): Buffer {
    return open(box, this.sealingKey, {
      sender: 'vault-proxy',
      recipient: 'gateway',
      purpose: SEALED_DATA_KEY_PURPOSE,
    });
  }

  private signed<C extends RpcContract>(contract: C, grant: GrantOf<C>): Promise<RpcResponse<C>> {
    const full = { ...grant, requestId: randomUUID(), issuedAt: new Date().toISOString() };
    const request = {
      grant: full,
      signature: signJson(full, contract.subject, this.signingKey),
    } as unknown as RpcRequestInput<C>;
    return this.client.request(contract, request);
  }
}
