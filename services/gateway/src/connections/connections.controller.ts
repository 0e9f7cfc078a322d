import { Controller, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import {
  ContractError,
  finishConnection,
  GOOGLE_SCOPE_BUNDLES,
  listMyConnections,
  revokeMyConnection,
  startConnection,
  type Connection,
  type RouteResponse,
} from '@heroagent/contracts';
import { AuditRecorder } from '../audit/audit-recorder.js';
import { EdgeOf, inTenant, Route, type Edge, managesTenant } from '../http/route.js';
import { OAuthFlows } from '../sign-in/oauth-flows.js';
import { SignInProviders } from '../sign-in/sign-in.controller.js';
import { VaultProxyClient } from './vault-proxy.client.js';

const CALLBACK_PATH = '/v1/connections/google/callback';
const IDENTITY_SCOPES = ['openid', 'email'];

/** How a connection is doing, as its owner sees it. */
export function connectionHealth(
  connection: Connection,
): 'working' | 'needs_consent' | 'revoking' | 'revoked' {
  return connection.status === 'active' ? 'working' : connection.status;
}

/**
 * Connected accounts. Connecting asks Google for the chosen scopes with offline access and
 * incremental consent; vault-proxy exchanges the code the callback brings, keeps the refresh
 * token and records exactly the scopes granted: no token from Google ever reaches the gateway.
 * A person may connect several Google accounts (work, personal): the same account connected
 * again updates its connection (more scopes, renewed consent). Disconnecting is immediate for
 * use and finished at Google by vault-proxy's revocation queue, whose receipt becomes an audit
 * event (see RevocationReceiptsRecorder).
 */
@Controller()
export class ConnectionsController {
  constructor(
    @Inject(SignInProviders) private readonly providers: SignInProviders,
    @Inject(OAuthFlows) private readonly flows: OAuthFlows,
    @Inject(VaultProxyClient) private readonly vault: VaultProxyClient,
    @Inject(AuditRecorder) private readonly audit: AuditRecorder,
  ) {}

  @Route(listMyConnections)
  async list(
    @EdgeOf() edge: Edge<typeof listMyConnections>,
  ): Promise<RouteResponse<typeof listMyConnections>> {
    const session = inTenant(edge);
    const asked = edge.input.query.userId;
    const overseer = session.tenant.role !== 'member';
    if (asked !== undefined && asked !== session.userId && !overseer) {
      throw new ContractError(
        'FORBIDDEN',
        "only an owner, admin or auditor sees other people's connections",
      );
    }
    const userId = asked === 'all' ? undefined : (asked ?? session.userId);
    const connections = await this.vault.list(session.tenant.id, userId);
    return {
      connections: connections.map((connection) => ({
        ...connection,
        health: connectionHealth(connection),
      })),
    };
  }

  @Route(startConnection)
  async start(
    @EdgeOf() edge: Edge<typeof startConnection>,
    @Res() response: Response,
  ): Promise<void> {
    const session = inTenant(edge);
    const { scopes, returnTo, loginHint } = edge.input.query;
    const requested = scopes.map((bundle) => GOOGLE_SCOPE_BUNDLES[bundle]);
    await this.flows.begin(
      this.google(),
      edge.request,
      response,
      {
        purpose: 'connect',
        provider: 'google',
        sessionId: session.id,
        returnTo,
        scopes: requested,
        invitationHash: null,
      },
      {
        callbackURL: this.flows.callbackUrl(CALLBACK_PATH),
        scope: [...IDENTITY_SCOPES, ...requested],
        accessType: 'offline',
        prompt: 'consent',
        includeGrantedScopes: true,
        ...(loginHint === undefined ? {} : { loginHint }),
      },
    );
  }

  @Route(finishConnection)
  async callback(
    @EdgeOf() edge: Edge<typeof finishConnection>,
    @Res() response: Response,
  ): Promise<void> {
    const session = inTenant(edge);
    const { outcome, flow } = await this.flows.finish(
      this.google(),
      edge.request,
      edge.input.query,
      { purpose: 'connect', provider: 'google', sessionId: session.id },
      { callbackURL: this.flows.callbackUrl(CALLBACK_PATH) },
      { tenantId: session.tenant.id, userId: session.userId },
    );
    if (outcome.connection === undefined) {
      throw new ContractError('INTERNAL', 'vault-proxy stored no connection for this flow');
    }
    const { connection, created } = outcome.connection;
    await this.audit.record({
      tenantId: session.tenant.id,
      name: created ? 'connection.created' : 'connection.updated',
      actor: { type: 'user', id: session.userId },
      userId: session.userId,
      outcome: 'success',
      data: { connectionId: connection.id, provider: 'google', scopes: connection.scopes },
    });
    this.flows.clearBrowserBinding(response);
    response.redirect(303, flow.return_to);
  }

  @Route(revokeMyConnection)
  async revoke(@EdgeOf() edge: Edge<typeof revokeMyConnection>): Promise<void> {
    const session = inTenant(edge);
    const { id } = edge.input.params;
    const mine = (await this.vault.list(session.tenant.id, session.userId)).some(
      (connection) => connection.id === id,
    );
    const manager = managesTenant(session);
    if (!mine && !manager) {
      // Whether it exists is not for a member to learn.
      throw new ContractError('CONNECTION_NOT_FOUND', 'you have no such connection');
    }
    const result = await this.vault.revoke(session.tenant.id, id);
    await this.audit.record({
      tenantId: session.tenant.id,
      name: 'connection.revoked',
      actor: { type: 'user', id: session.userId },
      userId: result.connection.userId,
      // Revoked for HeroAgent at once; Google's confirmation and the deletion of the refresh
      // token follow as `connection.revocation_confirmed`, with the receipt.
      outcome: 'success',
      data: {
        connectionId: id,
        provider: result.connection.provider,
        revocationId: result.revocation.id,
      },
    });
  }

  private google() {
    const found = this.providers.strategies.get('google');
    if (found === undefined) {
      throw new ContractError(
        'NOT_FOUND',
        'Google is not configured here (OAUTH_GOOGLE_CLIENT_ID)',
      );
    }
    return found.strategy;
  }
}
