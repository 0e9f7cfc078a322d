import { sql, type Kysely } from '@heroagent/db';

/**
 * Witnessed checkpoints. Each tenant's checkpoints are numbered (`checkpoint_index`, 1 for the
 * first) and an idle tenant's periodic checkpoint re-signs the same tree size, so the key becomes
 * the number and the size is only indexed. The chain head keeps what the next checkpoint links to
 * (number, digest = SHA-256 of the stored canonical payload) and when the last was signed;
 * `tenant_activity.checkpointed_at` lets every replica find the tenants due, across tenants.
 *
 * Checkpoints already stored are numbered in size order. That writes one derived column of an
 * append-only table: the trigger and the forced row security are lifted for this statement only,
 * inside the migration's transaction; no signed byte changes.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table checkpoints add column checkpoint_index bigint`.execute(db);
  await sql`alter table checkpoints no force row level security`.execute(db);
  await sql`alter table chain_heads no force row level security`.execute(db);
  await sql`alter table checkpoints disable trigger checkpoints_append_only`.execute(db);
  await sql`
    update checkpoints c set checkpoint_index = numbered.n
    from (
      select tenant_id, tree_size,
             row_number() over (partition by tenant_id order by tree_size) as n
      from checkpoints
    ) numbered
    where c.tenant_id = numbered.tenant_id and c.tree_size = numbered.tree_size`.execute(db);
  await sql`alter table checkpoints enable trigger checkpoints_append_only`.execute(db);
  await sql`
    alter table checkpoints
      alter column checkpoint_index set not null,
      add constraint checkpoints_index_positive check (checkpoint_index > 0),
      drop constraint checkpoints_pkey,
      add primary key (tenant_id, checkpoint_index)`.execute(db);
  await sql`create index checkpoints_by_size on checkpoints (tenant_id, tree_size, checkpoint_index)`.execute(
    db,
  );

  await sql`
    alter table chain_heads
      add column last_checkpoint_index bigint not null default 0,
      add column last_checkpoint_digest bytea
        check (last_checkpoint_digest is null or octet_length(last_checkpoint_digest) = 32),
      add column last_checkpoint_at timestamptz`.execute(db);
  await sql`
    update chain_heads h set
      last_checkpoint_index = last.checkpoint_index,
      last_checkpoint_digest = sha256(convert_to(last.payload, 'UTF8')),
      last_checkpoint_at = last.signed_at
    from (
      select distinct on (tenant_id) tenant_id, checkpoint_index, payload, signed_at
      from checkpoints order by tenant_id, checkpoint_index desc
    ) last
    where h.tenant_id = last.tenant_id`.execute(db);
  await sql`alter table tenant_activity add column checkpointed_at timestamptz`.execute(db);
  await sql`
    update tenant_activity a set checkpointed_at = h.last_checkpoint_at
    from chain_heads h where h.tenant_id = a.tenant_id`.execute(db);
  await sql`alter table checkpoints force row level security`.execute(db);
  await sql`alter table chain_heads force row level security`.execute(db);

  await sql`create index tenant_activity_by_checkpoint_age on tenant_activity (checkpointed_at)`.execute(
    db,
  );
}
