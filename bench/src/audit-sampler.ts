import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { StoreSnapshot } from './audit-store.js';

/** Wall-clock milliseconds that compare across threads (performance.now() does not). */
export const clock = (): number => performance.timeOrigin + performance.now();

/** One look at the store and when it was answered ({@link clock}). */
export interface StoreSample extends StoreSnapshot {
  readonly at: number;
}

/**
 * Polls the audit store every `intervalMs` from a worker thread and keeps every sample. Time is
 * taken when each answer arrives, so a sample is late by at most one poll and one query.
 */
export class CommitSampler {
  readonly samples: StoreSample[] = [];
  private waiter:
    | { count: number; resolve: (sample: StoreSample) => void; reject: (error: Error) => void }
    | undefined;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (sample: StoreSample) => {
      this.samples.push(sample);
      if (this.waiter !== undefined && sample.committed >= this.waiter.count) {
        this.waiter.resolve(sample);
        this.waiter = undefined;
      }
    });
    this.exited = new Promise((resolve) => {
      worker.once('error', (error: Error) => {
        this.failure = error;
        this.waiter?.reject(error);
      });
      worker.once('exit', () => resolve());
    });
  }

  /** Starts polling the database at `url` (a superuser URL: it reads pg_stat_activity). */
  static start(url: string, intervalMs: number): CommitSampler {
    const script = new URL('./audit-sampler-worker.js', import.meta.url);
    return new CommitSampler(new Worker(script, { workerData: { url, intervalMs } }));
  }

  /** Resolves with the first sample: the worker is up and its connection open. */
  started(): Promise<StoreSample> {
    return this.until(0, 30_000);
  }

  /** The first sample with at least `count` committed; rejects after `timeoutMs` without one. */
  async until(count: number, timeoutMs: number): Promise<StoreSample> {
    const seen = this.samples.find((sample) => sample.committed >= count);
    if (seen !== undefined) return seen;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<StoreSample>((resolve, reject) => {
        this.waiter = { count, resolve, reject };
        timer = setTimeout(() => {
          const last = this.samples.at(-1)?.committed ?? 0;
          reject(this.failure ?? new Error(`${last} of ${count} events committed; stuck`));
        }, timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.waiter = undefined;
    }
  }

  async stop(): Promise<void> {
    this.worker.postMessage('stop');
    await this.exited;
    if (this.failure !== undefined) throw this.failure;
  }
}
