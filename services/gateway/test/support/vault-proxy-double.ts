import { randomUUID, type KeyObject } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  ContractError,
  connectionSchema,
  createDataKey,
  openDataKey,
  SEALED_DATA_KEY_PURPOSE,
  issueToken,
  SEALED_TOKEN_PURPOSE,
  eraseSubject,
  listConnections,
  revokeConnection,
  SEALED_REFRESH_TOKEN_PURPOSE,
  storeConnection,
  type Connection,
  type RpcContract,
} from '@heroagent/contracts';
import {
  generateDataKey,
  keyRing,
  open,
  seal,
  unwrapDataKey,
  verifyJson,
  wrapDataKey,
  type JsonValue,
  type SealingKey,
  type SigningKey,
} from '@heroagent/crypto';

/** One request vault-proxy received, after its checks. */
export interface ReceivedGrant {
  readonly subject: string;
  readonly grant: Record<string, unknown>;
}

/**
 * A test double of vault-proxy's NATS API (`vault.connections.*`, `vault.subjects.erase`), as the
 * gateway sees it: Nest's NATS wire format, the contracts' schemas, the gateway's signature on
 * every grant checked against its public key, and the refresh token opened with vault-proxy's
 * sealing key, so a test can see what arrived and that nothing arrived in clear.
 */
export class VaultProxyDouble {
  readonly received: ReceivedGrant[] = [];
  /** Refresh tokens as vault-proxy opened them, by connection id. */
  readonly refreshTokens = new Map<string, string>();
  readonly connections = new Map<string, Connection>();
  /** Erasures: tenant, and person (undefined: the whole tenant). */
  readonly erased: { tenantId: string; userId: string | undefined }[] = [];
  /** Access tokens handed out, in clear (as the provider double would know them). */
  readonly issued: { connectionId: string; scopes: string[]; token: string }[] = [];
  /** Called for each token issued, to register it with a provider double. */
  onIssue: (token: string, scopes: string[], connection: Connection) => void = () => undefined;
  down = false;
  /** Key-encryption keys by owner (`<tenant>/<scope>/<id>`), as the embedded store keeps them. */
  readonly keyEncryptionKeys = new Map<string, Buffer>();

  private constructor(
    private readonly nats: NatsConnection,
    private readonly gatewaySigning: SigningKey,
    private readonly sealing: SealingKey,
    private readonly gatewaySealingPublicKey: KeyObject,
  ) {}

  static async start(
    natsUrl: string,
    gatewaySigning: SigningKey,
    sealing: SealingKey,
    gatewaySealingPublicKey: KeyObject,
  ): Promise<VaultProxyDouble> {
    const nats = await connect({ servers: natsUrl });
    const double = new VaultProxyDouble(nats, gatewaySigning, sealing, gatewaySealingPublicKey);
    double.serve(issueToken, (grant) => double.issue(grant));
    double.serve(storeConnection, (grant) => double.store(grant));
    double.serve(listConnections, (request) => ({
      connections: [...double.connections.values()].filter(
        (c) =>
          c.tenantId === request.tenantId &&
          (request.userId === undefined || c.userId === request.userId),
      ),
    }));
    double.serve(revokeConnection, (grant) => {
      const found = double.connections.get(String(grant.connectionId));
      if (found === undefined || found.tenantId !== grant.tenantId) {
        throw new ContractError('CONNECTION_NOT_FOUND', 'no such connection');
      }
      const revoked = { ...found, status: 'revoked' as const, revokedAt: new Date().toISOString() };
      double.connections.set(found.id, revoked);
      double.refreshTokens.delete(found.id);
      return { connection: revoked, providerRevoked: true };
    });
    double.serve(createDataKey, (grant) => double.createDataKey(grant));
    double.serve(openDataKey, (grant) => double.openDataKey(grant));
    double.serve(eraseSubject, (grant) => {
      const tenantId = String(grant.tenantId);
      const userId = grant.userId as string | undefined;
      double.erased.push({ tenantId, userId });
      for (const owner of [...double.keyEncryptionKeys.keys()]) {
        const [tenant, scope, id] = owner.split('/');
        if (tenant === tenantId && (userId === undefined || (scope === 'user' && id === userId))) {
          double.keyEncryptionKeys.delete(owner);
        }
      }
      let connectionsRevoked = 0;
      for (const connection of [...double.connections.values()]) {
        if (connection.tenantId !== tenantId) continue;
        if (userId !== undefined && connection.userId !== userId) continue;
        double.connections.delete(connection.id);
        double.refreshTokens.delete(connection.id);
        connectionsRevoked += 1;
      }
      return { connectionsRevoked, keysDeleted: userId === undefined ? 2 : 1 };
    });
    return double;
  }

  async close(): Promise<void> {
    await this.nats.close();
  }

  private issue(grant: Record<string, unknown>) {
    const connection = this.connections.get(String(grant.connectionId));
    if (
      connection === undefined ||
      connection.tenantId !== grant.tenantId ||
      connection.userId !== grant.userId
    ) {
      throw new ContractError('CONNECTION_NOT_FOUND', 'no such connection');
    }
    if (connection.status === 'revoked') {
      throw new ContractError('CONNECTION_REVOKED', 'the connection was revoked');
    }
    const scopes = grant.scopes as string[];
    if (!scopes.every((scope) => connection.scopes.includes(scope))) {
      throw new ContractError('SCOPE_NOT_GRANTED', 'the connection lacks a scope');
    }
    const token = `ya29.double-${randomUUID()}`;
    this.issued.push({ connectionId: connection.id, scopes, token });
    this.onIssue(token, scopes, connection);
    return {
      token: seal(Buffer.from(token, 'utf8'), this.gatewaySealingPublicKey, {
        sender: 'vault-proxy',
        recipient: 'gateway',
        purpose: SEALED_TOKEN_PURPOSE,
      }),
      tokenType: 'Bearer' as const,
      scopes,
      expiresAt: new Date(Date.now() + 300_000).toISOString(),
    };
  }

  private createDataKey(grant: Record<string, unknown>) {
    const owner = grant.owner as { scope: 'tenant' | 'user'; id: string };
    const name = `${String(grant.tenantId)}/${owner.scope}/${owner.id}`;
    let kek = this.keyEncryptionKeys.get(name);
    if (kek === undefined) {
      kek = generateDataKey();
      this.keyEncryptionKeys.set(name, kek);
    }
    const plaintext = generateDataKey();
    return {
      key: { ...owner, version: 1 },
      wrapped: wrapDataKey(plaintext, keyRing(new Map([[1, kek]])), name),
      plaintext: this.toGateway(plaintext),
    };
  }

  private openDataKey(grant: Record<string, unknown>) {
    const owner = grant.owner as { scope: 'tenant' | 'user'; id: string };
    const name = `${String(grant.tenantId)}/${owner.scope}/${owner.id}`;
    const kek = this.keyEncryptionKeys.get(name);
    if (kek === undefined) throw new ContractError('NOT_FOUND', 'no key for this owner');
    const key = unwrapDataKey(String(grant.wrapped), keyRing(new Map([[1, kek]])), name);
    return { plaintext: this.toGateway(key) };
  }

  private toGateway(dataKey: Buffer) {
    return seal(dataKey, this.gatewaySealingPublicKey, {
      sender: 'vault-proxy',
      recipient: 'gateway',
      purpose: SEALED_DATA_KEY_PURPOSE,
    });
  }

  private store(grant: Record<string, unknown>): Connection {
    const sealed = grant.refreshToken as Parameters<typeof open>[0];
    const token = open(sealed, this.sealing, {
      sender: 'gateway',
      recipient: 'vault-proxy',
      purpose: SEALED_REFRESH_TOKEN_PURPOSE,
    }).toString('utf8');
    const id = String(grant.connectionId);
    const existing = this.connections.get(id);
    if (existing !== undefined && existing.userId !== grant.userId) {
      throw new ContractError('CONFLICT', 'that connection belongs to someone else');
    }
    const connection = connectionSchema.parse({
      id,
      tenantId: grant.tenantId,
      userId: grant.userId,
      provider: grant.provider,
      account: grant.account,
      scopes: grant.scopes,
      status: 'active',
      createdAt: existing?.createdAt ?? new Date().toISOString(),
    });
    this.connections.set(id, connection);
    this.refreshTokens.set(id, token);
    return connection;
  }

  private serve<C extends RpcContract>(
    contract: C,
    handle: (input: Record<string, unknown>) => unknown,
  ): Subscription {
    return this.nats.subscribe(contract.subject, {
      callback: (_error, message) => {
        const packet = message.json<{ id: string; data: unknown }>();
        const reply = (body: object) =>
          message.respond(JSON.stringify({ ...body, id: packet.id, isDisposed: true }));
        if (this.down) return;
        try {
          const parsed = contract.request.safeParse(packet.data);
          if (!parsed.success) throw new ContractError('INVALID_REQUEST', parsed.error.message);
          const request = parsed.data as { grant?: Record<string, unknown>; signature?: never };
          let input = request as Record<string, unknown>;
          if (request.grant !== undefined) {
            try {
              verifyJson(
                request.grant as unknown as JsonValue,
                contract.subject,
                request.signature!,
                (kid) =>
                  kid === this.gatewaySigning.kid ? this.gatewaySigning.publicKey : undefined,
              );
            } catch {
              throw new ContractError(
                'SIGNATURE_INVALID',
                'the grant is not signed by the gateway',
              );
            }
            input = request.grant;
          }
          this.received.push({ subject: contract.subject, grant: input });
          reply({ response: handle(input) });
        } catch (error) {
          reply({
            err:
              error instanceof ContractError
                ? error.toBody()
                : { code: 'INTERNAL', message: String(error) },
          });
        }
      },
    });
  }

  /** A connection made directly (another person's, say). */
  add(connection: Omit<Connection, 'id' | 'status' | 'createdAt'>): Connection {
    const made: Connection = {
      ...connection,
      id: randomUUID(),
      status: 'active',
      createdAt: new Date().toISOString(),
    };
    this.connections.set(made.id, made);
    return made;
  }
}
