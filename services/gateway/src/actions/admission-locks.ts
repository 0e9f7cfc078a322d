import { ContractError } from '@heroagent/contracts';
import type { TransactionLocks } from '@heroagent/db';

/**
 * The locks that make admission atomic across every replica of the gateway. A person's actions
 * are admitted one at a time (their counts, limits and rates are read and the new action written
 * under the person's key), and never beside a pause of their tenant (the tenant's key, shared by
 * admissions, taken alone by a pause). Running an approved action, releasing a held send, a stop
 * and a lost membership take the same locks, so whatever they check or cancel cannot be joined by
 * an action admitted a moment before they commit.
 */
export function admissionLocks(tenantId: string, userId: string): TransactionLocks {
  return { shared: [tenantKey(tenantId)], exclusive: [personKey(tenantId, userId)] };
}

/** A pause: every admission of the tenant waits, and it waits for those under way. */
export function tenantLocks(tenantId: string): TransactionLocks {
  return { exclusive: [tenantKey(tenantId)] };
}

function tenantKey(tenantId: string): string {
  return `gateway.admission.tenant:${tenantId.toLowerCase()}`;
}

function personKey(tenantId: string, userId: string): string {
  return `gateway.admission.person:${tenantId.toLowerCase()}:${userId.toLowerCase()}`;
}

/**
 * One person's admissions in this process, one at a time, before any takes a pooled connection:
 * a flood of one person's requests then holds at most one connection of this replica (the rest
 * wait here, not in Postgres), so it cannot starve other people of the pool. The advisory lock
 * still orders them across replicas.
 */
export class PersonQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly waiting = new Map<string, number>();

  /** `most`: how many of one person's may wait at once; more are refused `RATE_LIMITED`. */
  constructor(private readonly most = Number.POSITIVE_INFINITY) {}

  run<T>(tenantId: string, userId: string, work: () => Promise<T>): Promise<T> {
    const key = personKey(tenantId, userId);
    const queued = this.waiting.get(key) ?? 0;
    if (queued >= this.most) {
      return Promise.reject(
        new ContractError('RATE_LIMITED', 'too many requests of this person are waiting'),
      );
    }
    this.waiting.set(key, queued + 1);
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work).finally(() => {
      const left = (this.waiting.get(key) ?? 1) - 1;
      if (left === 0) this.waiting.delete(key);
      else this.waiting.set(key, left);
    });
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
