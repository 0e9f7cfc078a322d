import { randomUUID } from 'node:crypto';
import { ContractError } from '@heroagent/contracts';
import {
  advisoryLockKey,
  holdSessionLock,
  sql,
  type DatabaseTls,
  type HeldSessionLock,
  type RawBuilder,
} from '@heroagent/db';

/** The namespace of executor leases' advisory lock keys: `gateway.replica:<id>`. */
export const EXECUTOR_LOCK_NAMESPACE = 'gateway.replica:';

/** The advisory lock key of the executor `id`. */
export function executorLockKey(id: string): string {
  return `${EXECUTOR_LOCK_NAMESPACE}${id.toLowerCase()}`;
}

/**
 * SQL, for a row of `actions`: whether the replica recorded as its `executor` is gone — its lease
 * is free, so this transaction can take it shared (and holds it so until it ends). A live
 * replica holds its lease exclusively from before it serves until its session ends, so it is
 * never found gone; checkers take it shared, so two checking at once both see the truth. False
 * for a row without an executor.
 */
export function executorGone(): RawBuilder<boolean> {
  // uuid::text is lower case, as executorLockKey writes it.
  const key = sql<string>`${EXECUTOR_LOCK_NAMESPACE} || executor::text`;
  return sql<boolean>`(executor is not null and pg_try_advisory_xact_lock_shared(${advisoryLockKey(key)}))`;
}

/**
 * This replica's executor lease: a random id taken at boot, and an exclusive session-level
 * advisory lock on `gateway.replica:<id>` held on a Postgres connection of its own (the runtime
 * role's, outside the pool) for the replica's lifetime. Every action this replica moves to
 * `executing` records the id, so any other session can tell, without timers, whether the replica
 * running it is still there (`executorGone`).
 *
 * Once the lease's connection is lost, others may already have found the replica gone and
 * settled its running actions as failed, outcome unknown: from then on it claims no action
 * (`claim` refuses, `UNAVAILABLE`) and its owner is told to stop (`onLost`). It never takes the
 * lease again under the same id.
 */
export class ExecutorLease {
  private constructor(
    /** The id recorded as `executor` on the actions this replica runs. */
    readonly id: string,
    private readonly lock: HeldSessionLock,
  ) {}

  /** Takes a new lease (a new id): before the replica serves anything. */
  static async take(options: {
    readonly connectionString: string;
    readonly tls?: DatabaseTls;
    readonly onLost: (error: Error) => void;
  }): Promise<ExecutorLease> {
    const id = randomUUID();
    const lock = await holdSessionLock({
      connectionString: options.connectionString,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      applicationName: 'heroagent-gateway-lease',
      key: executorLockKey(id),
      onLost: options.onLost,
    });
    return new ExecutorLease(id, lock);
  }

  /** True until the lease is released or lost. */
  get held(): boolean {
    return this.lock.held;
  }

  /** The backend process holding the lease. */
  get pid(): number {
    return this.lock.pid;
  }

  /**
   * The id to record on an action this replica is about to run; refuses (`UNAVAILABLE`) once the
   * lease is gone, so the transaction claiming the action rolls back and nothing is run under an
   * id whose lock is free.
   */
  claim(): string {
    if (!this.lock.held) {
      throw new ContractError(
        'UNAVAILABLE',
        'this gateway replica lost its executor lease and runs no more actions: ask again',
      );
    }
    return this.id;
  }

  release(): Promise<void> {
    return this.lock.release();
  }
}
