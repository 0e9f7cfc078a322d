import { randomUUID, type KeyObject } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  acknowledgeRevocationReceipts,
  ContractError,
  connectionSchema,
  createDataKey,
  openDataKey,
  SEALED_DATA_KEY_PURPOSE,
  eraseSubject,
  exchangeCode,
  GOOGLE_SCOPE_BUNDLES,
  issueToken,
  listConnections,
  listRevocationReceipts,
  revokeConnection,
  SEALED_TOKEN_PURPOSE,
  vaultConnectionsChanged,
  type Connection,
  type EventPayload,
  type Revocation,
  type RpcContract,
} from '@heroagent/contracts';
import {
  fromBase64Url,
  generateDataKey,
  keyRing,
  seal,
  unwrapDataKey,
  verifyJson,
  wrapDataKey,
  type JsonValue,
  type SigningKey,
} from '@heroagent/crypto';

/** Where vault-proxy's double exchanges codes: the provider double's token endpoint and client. */
export interface DoubleOAuthClient {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** One request vault-proxy received, after its checks. */
export interface ReceivedGrant {
  readonly subject: string;
  readonly grant: Record<string, unknown>;
}

/**
 * A test double of vault-proxy's NATS API (`vault.oauth.exchange`, `vault.connections.*`,
 * `vault.subjects.erase`, `vault.revocations.*`), as the gateway sees it: Nest's NATS wire
 * format, the contracts' schemas, the gateway's signature on every grant checked against its
 * public key. It exchanges codes at the provider double with the client secret (which only it
 * holds, as vault-proxy does), so a test can see that no token ever reaches the gateway.
 * Revocations stay pending until `settleRevocations`, as when Google is slow to confirm.
 */
export class VaultProxyDouble {
  readonly received: ReceivedGrant[] = [];
  /** Refresh tokens vault-proxy's double received from the provider, by connection id. */
  readonly refreshTokens = new Map<string, string>();
  /** Every token the provider's token endpoint answered the double (access, refresh, ID). */
  readonly providerTokens: string[] = [];
  /** Revocations, pending or completed, by id; `reported` once the gateway acknowledged one. */
  readonly revocations = new Map<string, Revocation & { reported: boolean }>();
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
  /** Google's token endpoint cannot be reached from vault-proxy. */
  providerDown = false;

  private constructor(
    private readonly nats: NatsConnection,
    private readonly gatewaySigning: SigningKey,
    private readonly gatewaySealingPublicKey: KeyObject,
    private readonly oauth: DoubleOAuthClient,
  ) {}

  static async start(
    natsUrl: string,
    gatewaySigning: SigningKey,
    gatewaySealingPublicKey: KeyObject,
    oauth: DoubleOAuthClient,
  ): Promise<VaultProxyDouble> {
    const nats = await connect({ servers: natsUrl });
    const double = new VaultProxyDouble(nats, gatewaySigning, gatewaySealingPublicKey, oauth);
    double.serve(issueToken, (grant) => double.issue(grant));
    double.serve(exchangeCode, (grant) => double.exchange(grant));
    double.serve(listRevocationReceipts, () => ({
      receipts: [...double.revocations.values()]
        .filter((revocation) => revocation.status === 'completed' && !revocation.reported)
        .map(receiptOf),
    }));
    double.serve(acknowledgeRevocationReceipts, (grant) => {
      let acknowledged = 0;
      for (const id of grant.receiptIds as string[]) {
        const found = double.revocations.get(id);
        if (found !== undefined && found.status === 'completed' && !found.reported) {
          found.reported = true;
          acknowledged += 1;
        }
      }
      return { acknowledged };
    });
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
      const revocation = double.queueRevocation(found, 'disconnect');
      const revoking = { ...found, status: 'revoking' as const, revocation };
      double.connections.set(found.id, revoking);
      double.announce(found, 'revoked');
      return { connection: revoking, revocation };
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
      let revocationsQueued = 0;
      for (const connection of [...double.connections.values()]) {
        if (connection.tenantId !== tenantId) continue;
        if (userId !== undefined && connection.userId !== userId) continue;
        double.queueRevocation(connection, userId === undefined ? 'erase_tenant' : 'erase_person');
        double.connections.set(connection.id, { ...connection, status: 'revoking' });
        double.announce(connection, 'erased');
        revocationsQueued += 1;
      }
      return { revocationsQueued, keysDeleted: userId === undefined ? 2 : 1 };
    });
    return double;
  }

  async close(): Promise<void> {
    await this.nats.close();
  }

  /** Until the NATS server has everything this double published. */
  flush(): Promise<void> {
    return this.nats.flush();
  }

  /**
   * The provider confirms every pending revocation: refresh tokens deleted, connections revoked
   * (or, erased, gone), receipts ready for the gateway to record.
   */
  settleRevocations(): Revocation[] {
    const settled: Revocation[] = [];
    for (const revocation of this.revocations.values()) {
      if (revocation.status !== 'pending') continue;
      Object.assign(revocation, {
        status: 'completed',
        completedAt: new Date().toISOString(),
        attempts: revocation.attempts + 1,
        providerStatus: 200,
        providerAnswer: 'revoked',
      });
      this.refreshTokens.delete(revocation.connectionId);
      const connection = this.connections.get(revocation.connectionId);
      if (revocation.reason !== 'disconnect') this.connections.delete(revocation.connectionId);
      else if (connection !== undefined) {
        this.connections.set(connection.id, {
          ...connection,
          status: 'revoked',
          revokedAt: revocation.completedAt!,
          revocation: receiptOf(revocation),
        });
      }
      settled.push(revocation);
    }
    return settled;
  }

  private queueRevocation(connection: Connection, reason: Revocation['reason']): Revocation {
    const pending = [...this.revocations.values()].find(
      (revocation) => revocation.connectionId === connection.id && revocation.status === 'pending',
    );
    if (pending !== undefined) return pending;
    const revocation: Revocation = {
      id: randomUUID(),
      tenantId: connection.tenantId,
      userId: connection.userId,
      connectionId: connection.id,
      provider: connection.provider,
      scopes: connection.scopes,
      reason,
      status: 'pending',
      requestedAt: new Date().toISOString(),
      attempts: 0,
      nextAttemptAt: new Date().toISOString(),
    };
    this.revocations.set(revocation.id, { ...revocation, reported: false });
    return revocation;
  }

  /** What vault-proxy does with a code: the exchange, the ID token's claims, the connection. */
  private async exchange(grant: Record<string, unknown>) {
    if (this.providerDown) {
      throw new ContractError('PROVIDER_UNAVAILABLE', 'the identity provider could not be reached');
    }
    const response = await fetch(this.oauth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: String(grant.code),
        code_verifier: String(grant.codeVerifier),
        redirect_uri: String(grant.redirectUri),
        client_id: this.oauth.clientId,
        client_secret: this.oauth.clientSecret,
      }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    for (const key of ['access_token', 'refresh_token', 'id_token']) {
      if (typeof json[key] === 'string') this.providerTokens.push(json[key]);
    }
    if (!response.ok) {
      throw new ContractError(
        'OAUTH_STATE_INVALID',
        `the identity provider refused the authorization code (${String(json.error)})`,
      );
    }
    const claims = JSON.parse(
      fromBase64Url(String(json.id_token).split('.')[1] ?? '')?.toString('utf8') ?? '{}',
    ) as Record<string, unknown>;
    if (claims.nonce !== grant.nonce || claims.aud !== this.oauth.clientId) {
      throw new ContractError('OAUTH_STATE_INVALID', 'the ID token was refused');
    }
    const identity = {
      provider: 'google' as const,
      issuer: 'https://accounts.google.com',
      subject: String(claims.sub),
      email: String(claims.email),
      emailVerified: claims.email_verified === true,
      displayName: typeof claims.name === 'string' ? claims.name : null,
    };
    const grantedScopes = (typeof json.scope === 'string' ? json.scope : '')
      .split(' ')
      .filter(Boolean);
    const intent = grant.intent as {
      purpose: 'sign_in' | 'connect';
      tenantId?: string;
      userId?: string;
      requestedScopes?: string[];
    };
    if (intent.purpose === 'sign_in') return { identity, grantedScopes };
    if (typeof json.refresh_token !== 'string') {
      throw new ContractError('OAUTH_DENIED', 'Google granted no offline access');
    }
    const known: readonly string[] = Object.values(GOOGLE_SCOPE_BUNDLES);
    const apiScopes = grantedScopes.filter((scope) => known.includes(scope));
    if (!intent.requestedScopes!.some((scope) => apiScopes.includes(scope))) {
      throw new ContractError('OAUTH_DENIED', 'none of the requested permissions was granted');
    }
    const existing = [...this.connections.values()].find(
      (connection) =>
        connection.tenantId === intent.tenantId &&
        connection.userId === intent.userId &&
        connection.account === identity.email,
    );
    const connection = connectionSchema.parse({
      id: existing?.id ?? randomUUID(),
      tenantId: intent.tenantId,
      userId: intent.userId,
      provider: 'google',
      account: identity.email,
      scopes: [...new Set(apiScopes)].sort(),
      status: 'active',
      createdAt: existing?.createdAt ?? new Date().toISOString(),
    });
    this.connections.set(connection.id, connection);
    this.refreshTokens.set(connection.id, json.refresh_token);
    if (existing !== undefined) this.announce(connection, 'regranted');
    return { identity, grantedScopes, connection: { connection, created: existing === undefined } };
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
    if (connection.status === 'revoked' || connection.status === 'revoking') {
      throw new ContractError('CONNECTION_REVOKED', 'the connection was revoked');
    }
    const scopes = grant.scopes as string[];
    const missing = scopes.filter((scope) => !connection.scopes.includes(scope));
    if (missing.length > 0) {
      throw new ContractError('SCOPE_NOT_GRANTED', `scopes not granted: ${missing.join(' ')}`);
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

  /**
   * `vault.connections.changed`, as vault-proxy publishes it: on this connection, before the
   * answer to the call that made the change (the server keeps one connection's order).
   */
  announce(connection: Connection, change: EventPayload<typeof vaultConnectionsChanged>['change']) {
    this.nats.publish(
      vaultConnectionsChanged.subjectPattern,
      JSON.stringify({ tenantId: connection.tenantId, connectionId: connection.id, change }),
    );
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
          Promise.resolve()
            .then(() => handle(input))
            .then(
              (response) => reply({ response }),
              (error: unknown) => reply({ err: errorBody(error) }),
            );
        } catch (error) {
          reply({ err: errorBody(error) });
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

function errorBody(error: unknown) {
  return error instanceof ContractError
    ? error.toBody()
    : { code: 'INTERNAL', message: String(error) };
}

function receiptOf({ reported: _, ...receipt }: Revocation & { reported: boolean }): Revocation {
  return receipt;
}
