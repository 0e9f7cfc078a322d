import {
  SEALED_DATA_KEY_PURPOSE,
  createDataKey,
  openDataKey,
  type RpcRequest,
} from '@heroagent/contracts';
import type { GrantVerifier } from '../grants/grant-verifier.js';
import type { GatewaySealing } from '../sealing.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import { fromSecrets } from '../secrets/secrets-errors.js';

/** `vault.datakeys.create` and `vault.datakeys.open`: data keys for envelope encryption, sealed to the gateway. */
export class DataKeys {
  constructor(
    private readonly grants: GrantVerifier,
    private readonly secrets: SecretsBackend,
    private readonly sealing: GatewaySealing,
  ) {}

  async create(request: RpcRequest<typeof createDataKey>) {
    const grant = await this.grants.verify(createDataKey, request);
    const owner = { tenantId: grant.tenantId, scope: grant.owner.scope, id: grant.owner.id };
    const key = await fromSecrets(() => this.secrets.createDataKey(owner));
    return {
      key: { ...grant.owner, version: key.keyVersion },
      wrapped: key.wrapped,
      plaintext: this.sealing.toGateway(key.plaintext, SEALED_DATA_KEY_PURPOSE),
    };
  }

  async open(request: RpcRequest<typeof openDataKey>) {
    const grant = await this.grants.verify(openDataKey, request);
    const owner = { tenantId: grant.tenantId, scope: grant.owner.scope, id: grant.owner.id };
    const plaintext = await fromSecrets(() => this.secrets.openDataKey(owner, grant.wrapped));
    return { plaintext: this.sealing.toGateway(plaintext, SEALED_DATA_KEY_PURPOSE) };
  }
}
