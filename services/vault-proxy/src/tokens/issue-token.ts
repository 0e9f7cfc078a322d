import {
  SEALED_TOKEN_PURPOSE,
  issueToken,
  type RpcRequest,
  type RpcResponse,
} from '@heroagent/contracts';
import type { GrantVerifier } from '../grants/grant-verifier.js';
import type { GatewaySealing } from '../sealing.js';
import type { TokenService } from './token-service.js';

/** `vault.tokens.issue`: a short-lived access token, sealed to the gateway, for a signed grant. */
export class IssueToken {
  constructor(
    private readonly grants: GrantVerifier,
    private readonly tokens: TokenService,
    private readonly sealing: GatewaySealing,
  ) {}

  async execute(request: RpcRequest<typeof issueToken>): Promise<RpcResponse<typeof issueToken>> {
    const grant = await this.grants.verify(issueToken, request);
    const issued = await this.tokens.issue(grant);
    return {
      token: this.sealing.toGateway(Buffer.from(issued.accessToken, 'utf8'), SEALED_TOKEN_PURPOSE),
      tokenType: 'Bearer',
      scopes: issued.scopes,
      expiresAt: new Date(issued.expiresAt).toISOString(),
    };
  }
}
