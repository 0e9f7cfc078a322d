import type { AgentStatus } from '@heroagent/contracts';
import type { ColumnType, Generated } from '@heroagent/db';

type CreatedAt = ColumnType<Date, Date | undefined, never>;
type Timestamp = ColumnType<Date, Date, Date>;

/** The gateway's tables (see migrations/): people, sessions and flows, all under row-level security. */
export interface GatewayDatabase {
  tenants: {
    id: string;
    name: string;
    created_at: CreatedAt;
  };
  users: {
    id: string;
    email: string;
    email_verified: boolean;
    display_name: string | null;
    created_at: CreatedAt;
    last_sign_in_at: Timestamp | null;
  };
  identities: {
    issuer: string;
    subject: string;
    user_id: string;
    provider: 'google' | 'oidc';
    email: string | null;
    created_at: CreatedAt;
    last_used_at: ColumnType<Date, Date | undefined, Date>;
  };
  memberships: {
    tenant_id: string;
    user_id: string;
    role: 'owner' | 'admin' | 'auditor' | 'member';
    created_at: CreatedAt;
  };
  invitations: {
    id: string;
    tenant_id: string;
    email: string;
    role: 'admin' | 'auditor' | 'member';
    token_hash: Buffer;
    invited_by: string;
    created_at: CreatedAt;
    expires_at: Date;
    accepted_at: Timestamp | null;
    accepted_by: string | null;
    revoked_at: Timestamp | null;
  };
  sessions: {
    id: string;
    token_hash: Buffer;
    user_id: string;
    tenant_id: string | null;
    created_at: CreatedAt;
    last_seen_at: Timestamp;
    idle_expires_at: Timestamp;
    expires_at: Date;
    user_agent: string | null;
    ip: string | null;
  };
  oauth_flows: {
    state_hash: Buffer;
    purpose: 'sign_in' | 'connect';
    provider: string;
    browser_hash: Buffer;
    session_id: string | null;
    code_verifier: string;
    nonce: string;
    return_to: string;
    scopes: string[];
    invitation_hash: Buffer | null;
    created_at: CreatedAt;
    expires_at: Date;
    consumed_at: Timestamp | null;
  };
  audit_outbox: {
    id: string;
    tenant_id: string;
    envelope: ColumnType<unknown, string, never>;
    created_at: CreatedAt;
    published_at: Timestamp | null;
    attempts: Generated<number>;
  };
  tasks: {
    id: string;
    tenant_id: string;
    user_id: string;
    title: string;
    actions: string[];
    connection_id: string | null;
    limits: ColumnType<unknown, string, string>;
    capability_id: string;
    status: Generated<'running' | 'stopped'>;
    created_at: CreatedAt;
    expires_at: Timestamp;
    stopped_at: Timestamp | null;
    stopped_by: string | null;
    stop_reason: string | null;
    /** What the person asked the agent; null when an API client drives the task itself. */
    request: string | null;
    time_zone: string | null;
    agent_status: AgentStatus | null;
    summary: string | null;
    /** The address of the connected account the task acts through. */
    account: string | null;
    /** How its actions were chosen: from the request, listed by an API client, or broad. */
    scope: ColumnType<
      'derived' | 'listed' | 'broad',
      'derived' | 'listed' | 'broad' | undefined,
      never
    >;
  };
  /** A task's timeline as the agent reported it: `body` is the event without kind, seq and at. */
  task_events: {
    tenant_id: string;
    task_id: string;
    seq: number;
    kind: string;
    at: Date;
    body: ColumnType<unknown, string, never>;
    received_at: CreatedAt;
  };
  tenant_agent_settings: {
    tenant_id: string;
    allow_cloud: boolean;
    provider_id: string | null;
    cloud_may_read_bodies: boolean;
    updated_at: Timestamp;
    updated_by: string | null;
  };
  /** How long a tenant keeps finished tasks: null until the tenant is deleted. */
  tenant_retention: {
    tenant_id: string;
    task_history_days: number | null;
    updated_at: Timestamp;
    updated_by: string;
  };
  /** Data keys of the tenant and of each person in it, wrapped by vault-proxy (privacy/). */
  data_keys: {
    tenant_id: string;
    scope: 'tenant' | 'user';
    owner_id: string;
    version: number;
    /** Null once erased (the row stays, so the next key takes the next version). */
    wrapped: string | null;
    created_at: CreatedAt;
    erased_at: Date | null;
  };
  /** The HTTP rate limits' windows, shared by every replica (no tenant's data). */
  http_rate_limits: {
    key: string;
    throttler: string;
    hits: number;
    window_ends_at: Timestamp;
  };
  tenant_controls: {
    tenant_id: string;
    agents_paused: Generated<boolean>;
    changed_at: Generated<Date>;
    changed_by: string | null;
  };
  tenant_policies: {
    tenant_id: string;
    version: number;
    text: string;
    created_at: CreatedAt;
    created_by: string | null;
  };
  actions: {
    id: string;
    tenant_id: string;
    task_id: string;
    user_id: string;
    connection_id: string | null;
    capability_id: string;
    type: string;
    class: 'read' | 'reversible' | 'irreversible';
    idempotency_key: string;
    request_hash: Buffer;
    params: ColumnType<unknown, string, string>;
    rationale: string;
    status: ActionStatus;
    policy: ColumnType<unknown, string, string>;
    amount_minor: ColumnType<string | null, number | null, number | null>;
    currency: string | null;
    result: ColumnType<unknown, string | null, string | null>;
    undo_state: ColumnType<unknown, string | null, string | null>;
    error: ColumnType<unknown, string | null, string | null>;
    /** The latest audit event of the action (its request, then its outcome). */
    audit_event_id: string;
    release_at: Timestamp | null;
    undoes: string | null;
    /**
     * The replica that last moved it to `executing` (its executor lease's id): while that
     * replica's lease is held it is running; once free, the replica is gone.
     */
    executor: ColumnType<string | null, string | null | undefined, string | null>;
    /** The parameters that did not come from the person (UntrustedValue[]). */
    untrusted: ColumnType<unknown, string | undefined, string>;
    created_at: CreatedAt;
    updated_at: ColumnType<Date, Date | undefined, Date>;
    completed_at: Timestamp | null;
  };
  approvals: {
    id: string;
    tenant_id: string;
    action_id: string;
    user_id: string;
    status: 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';
    required: number;
    decisions: ColumnType<unknown, string | undefined, string>;
    reason: string;
    created_at: CreatedAt;
    expires_at: Timestamp;
    decided_at: Timestamp | null;
  };
}

export type ActionStatus =
  | 'executing'
  | 'completed'
  | 'failed'
  | 'denied'
  | 'pending_approval'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'undone'
  | 'cancelled'
  | 'scheduled';
