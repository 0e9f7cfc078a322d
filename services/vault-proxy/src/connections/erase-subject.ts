import { eraseSubject, type RpcRequest } from '@heroagent/contracts';
import type { GrantVerifier } from '../grants/grant-verifier.js';
import type { SecretsBackend } from '../secrets/secrets-backend.js';
import { fromSecrets } from '../secrets/secrets-errors.js';
import type { ConnectionsRepository } from './connections.repository.js';
import type { RevokeConnection } from './revoke-connection.js';

/**
 * `vault.subjects.erase`: a person's account closure, or a tenant's deletion. Every connection is
 * revoked at the provider and its secrets deleted, the connections' records are deleted, and the
 * key-encryption keys are destroyed, so every data key they wrapped is unreadable for ever.
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
    const doomed = await this.connections.list(grant.tenantId, grant.userId);
    for (const connection of doomed) await this.revocation.revoke(connection);
    await this.connections.delete(grant.tenantId, grant.userId);
    let keysDeleted: number;
    if (grant.userId === undefined) {
      await fromSecrets(() => this.secrets.deleteTenantSecrets(grant.tenantId));
      keysDeleted = await fromSecrets(() => this.secrets.deleteTenantKeys(grant.tenantId));
    } else {
      const owner = { tenantId: grant.tenantId, scope: 'user' as const, id: grant.userId };
      keysDeleted = (await fromSecrets(() => this.secrets.deleteKeys(owner))) ? 1 : 0;
    }
    return { connectionsRevoked: doomed.length, keysDeleted };
  }
}
