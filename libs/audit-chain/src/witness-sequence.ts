import type { CheckpointV2, SignedCheckpoint } from '@heroagent/contracts';
import { linkTo } from './chain.js';

/** Why a consistency answer does not prove the record extends a kept checkpoint. */
export type WitnessProblemCode =
  | 'MALFORMED_ANSWER'
  | 'TENANT_MISMATCH'
  | 'SINCE_KEY_NOT_TRUSTED'
  | 'SINCE_SIGNATURE_INVALID'
  | 'AUDIT_KEY_NOT_TRUSTED'
  | 'CHECKPOINT_SIGNATURE_INVALID'
  | 'SINCE_TRUNCATED'
  | 'SINCE_NOT_EXTENDED'
  | 'CONSISTENCY_PROOF_INVALID'
  | 'CHECKPOINT_FORK'
  | 'CHECKPOINT_GAP'
  | 'CHECKPOINT_CHAIN_BROKEN'
  | 'CHECKPOINT_OUT_OF_ORDER'
  | 'SEQUENCE_INCOMPLETE'
  | 'SEQUENCE_UNENDING'
  | 'LATEST_CHECKPOINT_STALE';

/** A reason to refuse, with its code; caught and reported by the witness check. */
export class Refusal extends Error {
  constructor(
    readonly code: WitnessProblemCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Follows numbered checkpoints from the kept one towards the latest, page by page, keeping only
 * the last one seen: each must be numbered one more than the one before, link to it by digest,
 * and be no smaller nor older than it.
 */
export class SequenceWalker {
  private previous: CheckpointV2;
  private started = false;
  linked = 0;

  constructor(private readonly kept: CheckpointV2) {
    this.previous = kept;
  }

  /** The number of the last checkpoint linked: where the next page starts. */
  get last(): number {
    return this.previous.index;
  }

  /** The first page: it must hold the kept checkpoint, unchanged; what follows it is linked. */
  start(sequence: readonly SignedCheckpoint[]): void {
    const at = sequence.findIndex(
      ({ checkpoint }) => checkpoint.v === 2 && checkpoint.index === this.kept.index,
    );
    if (at === -1) {
      throw new Refusal(
        'CHECKPOINT_GAP',
        `the server's checkpoints do not include number ${this.kept.index}, the kept one`,
      );
    }
    if (linkTo(sequence[at]!.checkpoint).digest !== linkTo(this.kept).digest) {
      throw new Refusal(
        'CHECKPOINT_FORK',
        `the server's checkpoint number ${this.kept.index} differs from the kept one: two signed versions of it exist`,
      );
    }
    this.started = true;
    this.follow(sequence.slice(at + 1));
  }

  /**
   * A later page: it must start with the last checkpoint of the page before (asked for by
   * number), and go further unless it ends the sequence.
   */
  continue(sequence: readonly SignedCheckpoint[], complete: boolean): void {
    if (!this.started) throw new Error('start() first');
    const [head, ...rest] = sequence;
    if (head === undefined || linkTo(head.checkpoint).digest !== linkTo(this.previous).digest) {
      throw new Refusal(
        'CHECKPOINT_GAP',
        `the page asked from checkpoint number ${this.previous.index} does not start with it`,
      );
    }
    if (rest.length === 0 && !complete) {
      throw new Refusal(
        'SEQUENCE_UNENDING',
        `the server's page from checkpoint number ${this.previous.index} goes no further, yet says the sequence is incomplete`,
      );
    }
    this.follow(rest);
  }

  /** The sequence is complete: it must end at the latest checkpoint. */
  finish(second: CheckpointV2): void {
    if (linkTo(this.previous).digest !== linkTo(second).digest) {
      throw new Refusal(
        'CHECKPOINT_CHAIN_BROKEN',
        `the checkpoints end at number ${this.previous.index}, not at the latest (number ${second.index})`,
      );
    }
  }

  private follow(sequence: readonly SignedCheckpoint[]): void {
    for (const { checkpoint } of sequence) {
      const expected = this.previous.index + 1;
      if (checkpoint.v !== 2 || checkpoint.index > expected)
        throw new Refusal('CHECKPOINT_GAP', `checkpoint number ${expected} is missing`);
      if (checkpoint.index < expected)
        throw new Refusal(
          'CHECKPOINT_OUT_OF_ORDER',
          `checkpoint number ${checkpoint.index} is out of order`,
        );
      const link = linkTo(this.previous);
      const { previous: named } = checkpoint;
      if (
        named === null ||
        named.index !== link.index ||
        named.treeSize !== link.treeSize ||
        named.rootHash !== link.rootHash ||
        named.digest !== link.digest
      ) {
        throw new Refusal(
          'CHECKPOINT_CHAIN_BROKEN',
          `checkpoint number ${checkpoint.index} does not link to number ${link.index}`,
        );
      }
      if (
        checkpoint.treeSize < this.previous.treeSize ||
        Date.parse(checkpoint.timestamp) < Date.parse(this.previous.timestamp)
      ) {
        throw new Refusal(
          'CHECKPOINT_OUT_OF_ORDER',
          `checkpoint number ${checkpoint.index} is smaller or older than number ${link.index}`,
        );
      }
      this.previous = checkpoint;
      this.linked += 1;
    }
  }
}
