import { MerkleFrontier, type ChainHead } from '@heroagent/audit-chain';
import type { AuditDatabase } from './tables.js';

type HeadRow = AuditDatabase['chain_heads'];

/** A stored chain head as the chain library wants it. */
export function headOf(
  row: Pick<HeadRow, 'seq' | 'hash' | 'frontier' | 'last_checkpoint_size' | 'last_checkpoint_root'>,
): ChainHead {
  return {
    seq: row.seq,
    hash: row.hash,
    frontier: MerkleFrontier.restore(row.seq, row.frontier),
    lastCheckpoint:
      row.last_checkpoint_size === null || row.last_checkpoint_root === null
        ? null
        : {
            treeSize: row.last_checkpoint_size,
            rootHash: row.last_checkpoint_root.toString('hex'),
          },
  };
}
