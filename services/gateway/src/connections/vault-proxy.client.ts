import { randomUUID } from 'node:crypto';
import {
  acknowledgeRevocationReceipts,
  createDataKey,
  eraseSubject,
  exchangeCode,
  openDataKey,
  SEALED_DATA_KEY_PURPOSE,
  issueToken,
  SEALED_TOKEN_PURPOSE,
  listConnections,
  listRevocationReceipts,
  revokeConnection,
  type Connection,
  type Revocation,
  type RpcContract,
  type RpcRequestInput,
  type RpcResponse,
} from '@heroagent/contracts';
import { open, signJson, type SealingKey, type SigningKey } from '@heroagent/crypto';
import type { ContractClient } from '@heroagent/service';
import type { AccessToken, AccessTokenCache, TokenFor } from './access-token-cache.js';

type GrantOf<C extends RpcContract> = Omit<
  RpcRequestInput<C> extends { grant: infer G } ? G : never,
  'requestId' | 'issuedAt'
>;

/**
 * The gateway's side of vault-proxy: every request that carries authority is a grant signed with
 * the gateway's key, unique and fresh. The gateway never holds a refresh token: vault-proxy
 * exchanges the authorization code and keeps it.
 */
export class VaultProxyClient {
  constructor(
    private readonly client: ContractClient,
    private readonly signingKey: SigningKey,
    private readonly sealingKey: SealingKey,
    private readonly tokens: AccessTokenCache,
  ) {}

  /**
   * A short-lived access token for one connection and scopes: the one this replica keeps for
   * exactly that request (see {@link AccessTokenCache}), or else one vault-proxy issues, opened
   * from the box it sealed it in. Never logged or stored outside this process's memory.
   */
  async accessToken(grant: TokenFor & { scopes: string[] }): Promise<AccessToken> {
    if (this.tokens.get(grant) !== undefined) {
      // vault-proxy flushes a change to the NATS server before it answers the call that made it,
      // so one round trip to the server brings any change already made here first. Without that
      // round trip this replica may have missed changes: it forgets every token, and asks.
      const heard = await this.client.ping().then(
        () => true,
        () => false,
      );
      if (!heard) this.tokens.clear();
      const kept = this.tokens.get(grant);
      if (kept !== undefined) return kept;
    }
    const mark = this.tokens.mark();
    const answer = await this.signed(issueToken, grant);
    const token = open(answer.token, this.sealingKey, {
      sender: 'vault-proxy',
      recipient: 'gateway',
      purpose: SEALED_TOKEN_PURPOSE,
    }).toString('utf8');
    const issued = { token, expiresAt: answer.expiresAt, scopes: answer.scopes };
    this.tokens.keep(grant, issued, mark);
    return issued;
  }

  /**
   * An authorization code exchanged by vault-proxy: the identity, and for a connection, it. A
   * re-consent changes what a connection may do: this replica forgets that connection's tokens
   * itself, whatever the change event's route (all of them if the call failed: it may have
   * committed).
   */
  async exchange(grant: GrantOf<typeof exchangeCode>): Promise<RpcResponse<typeof exchangeCode>> {
    if (grant.intent.purpose !== 'connect') return this.signed(exchangeCode, grant);
    try {
      const answer = await this.signed(exchangeCode, grant);
      const connectionId = answer.connection?.connection.id;
      if (connectionId === undefined) this.tokens.clear();
      else this.tokens.drop(connectionId);
      return answer;
    } catch (error) {
      this.tokens.clear();
      throw error;
    }
  }

  async list(tenantId: string, userId?: string): Promise<Connection[]> {
    const answer = await this.client.request(listConnections, {
      tenantId,
      ...(userId === undefined ? {} : { userId }),
    });
    return answer.connections;
  }

  /**
   * Revokes a connection. This replica forgets its tokens itself, before the call and after it
   * (succeeded or not: a call that timed out may have committed), whatever the change event's
   * route through a NATS cluster.
   */
  async revoke(
    tenantId: string,
    connectionId: string,
  ): Promise<RpcResponse<typeof revokeConnection>> {
    this.tokens.drop(connectionId);
    try {
      return await this.signed(revokeConnection, { tenantId, connectionId });
    } finally {
      this.tokens.drop(connectionId);
    }
  }

  /** Deletion receipts not yet recorded in the audit log, oldest first. */
  async receipts(limit: number): Promise<Revocation[]> {
    return (await this.client.request(listRevocationReceipts, { limit })).receipts;
  }

  /** These receipts are recorded: vault-proxy stops listing them. */
  async acknowledge(receiptIds: string[]): Promise<number> {
    return (await this.signed(acknowledgeRevocationReceipts, { receiptIds })).acknowledged;
  }

  /**
   * Data keys destroyed now; connections queued for revocation (see the receipts). This replica
   * forgets every token it keeps, before and after, as for a revocation.
   */
  async erase(tenantId: string, userId?: string): Promise<RpcResponse<typeof eraseSubject>> {
    this.tokens.clear();
    try {
      return await this.signed(eraseSubject, {
        tenantId,
        ...(userId === undefined ? {} : { userId }),
      });
    } finally {
      this.tokens.clear();
    }
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
