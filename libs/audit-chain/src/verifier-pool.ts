import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import {
  IncomingChecker,
  type CheckedMessage,
  type IncomingMessage,
  type TrustedKey,
} from './incoming.js';
import { packMessages, unpackResults, type PackedResults } from './packing.js';

interface Job {
  readonly resolve: (results: CheckedMessage[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Checks incoming events on worker threads, one per core by default, so that Ed25519 verification
 * (the cost of ingest) runs beside the event loop rather than on it. With no workers it checks
 * inline. Batches are split evenly across workers; results come back in message order.
 */
export class VerifierPool {
  private readonly workers: Worker[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextJob = 0;
  private inline: IncomingChecker;

  private constructor(keys: readonly TrustedKey[]) {
    this.inline = new IncomingChecker(keys);
  }

  /** A pool of `size` workers (0: verify on the calling thread). */
  static async create(size: number, keys: readonly TrustedKey[]): Promise<VerifierPool> {
    const pool = new VerifierPool(keys);
    const script = createRequire(import.meta.url).resolve('@heroagent/audit-chain/verify-worker');
    for (let index = 0; index < size; index += 1) {
      // The worker runs the build, whatever conditions the parent was started with (a test runner's).
      const worker = new Worker(script, { workerData: { keys }, execArgv: [] });
      worker.on('message', (message: { id: number; packed?: PackedResults; error?: string }) => {
        const job = pool.jobs.get(message.id);
        if (job === undefined) return;
        pool.jobs.delete(message.id);
        if (message.packed) job.resolve(unpackResults(message.packed));
        else job.reject(new Error(message.error ?? 'verification worker failed'));
      });
      worker.on('error', (error: Error) => pool.failAll(error));
      pool.workers.push(worker);
    }
    await Promise.all(
      pool.workers.map((worker) => new Promise((resolve) => worker.once('online', resolve))),
    );
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Replaces the trusted keys (a key registered or retired). */
  updateKeys(keys: readonly TrustedKey[]): void {
    this.inline = new IncomingChecker(keys);
    for (const worker of this.workers) worker.postMessage({ type: 'keys', keys });
  }

  async check(messages: readonly IncomingMessage[]): Promise<CheckedMessage[]> {
    if (this.workers.length === 0 || messages.length < 2)
      return messages.map((message) => this.inline.check(message));
    const share = Math.ceil(messages.length / this.workers.length);
    const parts = await Promise.all(
      this.workers.map((worker, index) => {
        const slice = messages.slice(index * share, (index + 1) * share);
        if (slice.length === 0) return Promise.resolve([] as CheckedMessage[]);
        const id = this.nextJob++;
        return new Promise<CheckedMessage[]>((resolve, reject) => {
          this.jobs.set(id, { resolve, reject });
          const packed = packMessages(slice);
          worker.postMessage({ type: 'check', id, packed }, [packed.data]);
        });
      }),
    );
    return parts.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    this.workers.length = 0;
    this.failAll(new Error('verifier pool closed'));
  }

  private failAll(error: Error): void {
    for (const job of this.jobs.values()) job.reject(error);
    this.jobs.clear();
  }
}
