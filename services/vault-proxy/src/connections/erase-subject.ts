import { eraseSubject, type RpcRequest } from '@heroagent/contracts';
import type { GrantVerifier } from '../grants/grant-verifier.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import { fromSecrets } from '../secrets/secrets-errors.js';
import type { ConnectionsRepository } from './connections.repository.js';
import type { RevokeConnection } from './revoke-connection.js';

/**
 * `vault.subjects.erase`: a person's account closure, or a tenant's deletion. The key-encryption
 * keys are destroyed at once, so every data key they wrapped is unreadable for ever. Every
 * connection is queued for revocation at the provider: its refresh token stays sealed until the
 * provider confirms, then it and the connection's record are deleted (a tenant's remaining
 * secrets with its last one).
 */
export class EraseSubject {
  constructor(
    private readonly grants: GrantVerifier,
    private readonly secrets: SecretsBackend,
    private readonly connections: ConnectionsRepository,
    private readonly revocation: RevokeConnection,
  ) {}

  async execute(request: RpcRequest<typeof eraseSubject>) {
    const grant = await this.grants.verify(eraseSubject, request);
    let keysDeleted: number;
    if (grant.userId === undefined) {
      keysDeleted = await fromSecrets(() => this.secrets.deleteTenantKeys(grant.tenantId));
    } else {
      const owner = { tenantId: grant.tenantId, scope: 'user' as const, id: grant.userId };
      keysDeleted = (await fromSecrets(() => this.secrets.deleteKeys(owner))) ? 1 : 0;
    }
    const doomed = await this.connections.list(grant.tenantId, grant.userId);
    const reason = grant.userId === undefined ? 'erase_tenant' : 'erase_person';
    for (const connection of doomed) await this.revocation.queue(connection, reason);
    if (grant.userId === undefined && doomed.length === 0) {
      await fromSecrets(() => this.secrets.deleteTenantSecrets(grant.tenantId));
    }
    return { revocationsQueued: doomed.length, keysDeleted };
  }
}
