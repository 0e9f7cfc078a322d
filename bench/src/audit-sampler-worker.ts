// Worker thread of CommitSampler: polls the store on its own event loop, so the audit service
// blocking the main thread (verification inline, a long synchronous step) delays no sample.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { createDatabase } from '@heroagent/db';
import { readStoreSnapshot } from './audit-store.js';

const { url, intervalMs } = workerData as { url: string; intervalMs: number };
const admin = createDatabase<unknown>({
  connectionString: url,
  applicationName: 'heroagent-bench-sampler',
  maxConnections: 1,
});
let stopped = false;
parentPort?.once('message', () => {
  stopped = true;
});
try {
  while (!stopped) {
    const snapshot = await readStoreSnapshot(admin);
    parentPort?.postMessage({ at: performance.timeOrigin + performance.now(), ...snapshot });
    await sleep(intervalMs);
  }
} finally {
  await admin.destroy();
}
