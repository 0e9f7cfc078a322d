import type { Generated } from 'kysely';

/** The audit schema, as Kysely sees it. Only repositories use these types. */
export interface AuditDatabase {
  signing_keys: {
    kid: string;
    service: string;
    public_key: Buffer;
    not_before: Date;
    not_after: Date | null;
    registered_at: Generated<Date>;
  };
  tenant_activity: {
    tenant_id: string;
    seq: number;
    checkpointed_seq: number;
    /** When the tenant's last checkpoint was signed (null before its first). */
    checkpointed_at: Date | null;
    updated_at: Generated<Date>;
  };
  chain_heads: {
    tenant_id: string;
    seq: number;
    hash: Buffer;
    frontier: Buffer;
    last_checkpoint_size: number | null;
    last_checkpoint_root: Buffer | null;
    /** The number of the tenant's last checkpoint; 0 before the first. */
    last_checkpoint_index: Generated<number>;
    /** SHA-256 of its canonical payload, which the next checkpoint links to. */
    last_checkpoint_digest: Buffer | null;
    last_checkpoint_at: Date | null;
    updated_at: Generated<Date>;
  };
  events: {
    tenant_id: string;
    seq: number;
    event_id: string;
    prev_hash: Buffer;
    hash: Buffer;
    leaf_hash: Buffer;
    envelope: string;
    occurred_at: Date | string;
    received_at: Date | string;
    name: string;
    source: string;
    user_id: string | null;
    task_id: string | null;
    action: string | null;
    outcome: string;
  };
  checkpoints: {
    tenant_id: string;
    checkpoint_index: number;
    tree_size: number;
    root_hash: Buffer;
    payload: string;
    kid: string;
    signature: string;
    signed_at: Date | string;
  };
  quarantine: {
    id: Generated<number>;
    received_at: Generated<Date>;
    subject: string;
    stream_seq: number | null;
    tenant_id: string | null;
    event_id: string | null;
    reason: string;
    detail: string;
    /** At most the first 1 KiB of what arrived (the whole of it in rows older than the cap). */
    payload: Buffer;
    /** SHA-256 of all that arrived (null in rows older than the cap). */
    payload_sha256: Buffer | null;
    payload_bytes: number | null;
  };
  quarantine_budget: {
    bucket: string;
    tokens: number;
    refilled_at: Date;
    kept: Generated<number>;
    dropped: Generated<number>;
  };
  siem_destinations: {
    id: string;
    tenant_id: string;
    name: string;
    endpoint: string;
    encoding: 'json' | 'protobuf';
    /** `otlp`: events and checkpoints as OTLP logs; `webhook`: checkpoints only, as signed POSTs. */
    kind: Generated<'otlp' | 'webhook'>;
    headers_ciphertext: string;
    header_names: string[];
    enabled: boolean;
    exported_through_seq: Generated<number>;
    /** The number of the last checkpoint the destination accepted. */
    checkpoints_through: Generated<number>;
    failures: Generated<number>;
    next_attempt_at: Generated<Date>;
    last_success_at: Date | null;
    last_error: string | null;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
}
