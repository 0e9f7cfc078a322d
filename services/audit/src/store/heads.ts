import { MerkleFrontier, type ChainHead } from '@heroagent/audit-chain';
import type { AuditDatabase } from './tables.js';

type HeadRow = AuditDatabase['chain_heads'];

/** The columns of a chain head that {@link headOf} reads. */
export const HEAD_COLUMNS = [
  'seq',
  'hash',
  'frontier',
  'last_checkpoint_index',
  'last_checkpoint_size',
  'last_checkpoint_root',
  'last_checkpoint_digest',
] as const;

type StoredHead = Pick<HeadRow, Exclude<(typeof HEAD_COLUMNS)[number], 'last_checkpoint_index'>> & {
  last_checkpoint_index: number;
};

/** A stored chain head as the chain library wants it; throws if its checkpoint link is partial. */
export function headOf(row: StoredHead): ChainHead {
  const { last_checkpoint_size: size, last_checkpoint_root: root } = row;
  const digest = row.last_checkpoint_digest;
  if (size !== null && (root === null || digest === null || row.last_checkpoint_index < 1)) {
    throw new Error('the last checkpoint of the head is incomplete');
  }
  return {
    seq: row.seq,
    hash: row.hash,
    frontier: MerkleFrontier.restore(row.seq, row.frontier),
    lastCheckpoint:
      size === null
        ? null
        : {
            index: row.last_checkpoint_index,
            treeSize: size,
            rootHash: root!.toString('hex'),
            digest: digest!.toString('hex'),
          },
  };
}
