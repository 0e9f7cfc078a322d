import type { Generated } from 'kysely';

/** vault-proxy's schema, as Kysely sees it. Only repositories and the embedded store use it. */
export interface VaultProxyDatabase {
  tenants: { tenant_id: string; created_at: Generated<Date> };
  connections: {
    id: string;
    tenant_id: string;
    user_id: string;
    provider: string;
    account: string;
    scopes: string[];
    status: 'active' | 'needs_consent' | 'revoking' | 'revoked';
    secret_version: Generated<number>;
    /** Where the current grant's refresh token is kept (see the bind_revocations migration). */
    secret_id: string;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
    last_used_at: Date | null;
    revoked_at: Date | null;
  };
  embedded_secrets: {
    tenant_id: string;
    connection_id: string;
    version: number;
    ciphertext: string;
    created_at: Generated<Date>;
  };
  embedded_keys: {
    tenant_id: string;
    owner_scope: 'tenant' | 'user';
    owner_id: string;
    version: number;
    key_ciphertext: string;
    created_at: Generated<Date>;
  };
  seen_requests: { request_id: string; seen_at: Generated<Date> };
  revocations: {
    id: string;
    tenant_id: string;
    user_id: string;
    connection_id: string;
    provider: string;
    scopes: string[];
    reason: 'disconnect' | 'erase_person' | 'erase_tenant';
    /** The grant's secret this revocation revokes and deletes. */
    secret_id: string;
    /** The attempt holding it: only that one may retry or complete it. */
    claim: string | null;
    requested_at: Generated<Date>;
    attempts: Generated<number>;
    next_attempt_at: Generated<Date>;
    last_error: string | null;
    completed_at: Date | null;
    provider_status: number | null;
    provider_answer: 'revoked' | 'already_invalid' | 'no_token_stored' | null;
    reported_at: Date | null;
  };
  revocation_work: {
    revocation_id: string;
    tenant_id: string;
    stage: 'revoke' | 'report';
    due_at: Generated<Date>;
  };
}
