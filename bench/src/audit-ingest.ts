// Audit ingest against the machine's own Ed25519 ceiling: the real service, started in this
// process on a throw-away nats-server and Postgres database, drains a backlog of signed events
// (verify on worker threads vs on the event loop), then takes a steady stream for its latency.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { RunningService } from '@heroagent/service';
import { measureVerifyCeiling, printVerifyCeiling } from './audit-ceiling.js';
import { printDrains, printLive } from './audit-ingest-report.js';
import { measureDrain, measureLive, type DrainResult } from './audit-measure.js';
import { AuditTestbed, CHECKPOINT_EVERY, TENANTS } from './audit-testbed.js';
import { loadBenchConfig } from './config.js';
import { formatCount, printMachine, printTimedPlan } from './report.js';

const config = loadBenchConfig();
const began = performance.now();
printMachine('audit ingest: JetStream → verify → chain → Postgres commit, vs the Ed25519 ceiling');
printTimedPlan(config);
const ceiling = await measureVerifyCeiling({ durationMs: config.caseMs, rounds: config.rounds });
printVerifyCeiling(ceiling, 'all cores');

const defaultWorkers = availableParallelism();
// Inline first and the default last, so the default is left running for the latency run.
const variants = [0, defaultWorkers];
const liveEvents = Math.max(2, Math.round((config.audit.rate * config.audit.liveMs) / 1_000));
const seconds = (ms: number) => (ms / 1_000).toFixed(2);

const batch = config.audit.ingestBatch;
const testbed = await AuditTestbed.open({ ingestBatch: batch });
let running: RunningService | undefined;
try {
  const signStart = performance.now();
  const backlogs = variants.map(() => testbed.sign(config.audit.events));
  const liveBacklog = testbed.sign(liveEvents);
  const signMs = performance.now() - signStart;
  console.log(
    `\nsetup: nats-server (JetStream, file storage) and a throw-away Postgres database on this` +
      ` machine; audit started in this process (its event loop is shared with the publisher; the` +
      ` store is polled from a worker thread); AUDIT_INGEST_BATCH=${batch},` +
      ` AUDIT_CHECKPOINT_EVERY_EVENTS=` +
      `${CHECKPOINT_EVERY}; events spread over ${TENANTS} tenants; all` +
      ` ${formatCount(variants.length * config.audit.events + liveEvents)} events signed ahead` +
      ` (${seconds(signMs)} s, not timed)`,
  );
  const bootStart = performance.now();
  const primed = await testbed.start(defaultWorkers);
  const firstBootMs = performance.now() - bootStart;
  await primed.close();
  console.log(`first boot (migrations, stream, durable consumer): ${formatCount(firstBootMs)} ms`);

  const drains: DrainResult[] = [];
  for (const [index, workers] of variants.entries()) {
    const drain = await measureDrain(testbed, backlogs[index]!, workers);
    drains.push(drain.result);
    running = drain.running;
    if (index < variants.length - 1) {
      await running.close();
      running = undefined;
    }
  }
  printDrains(drains, ceiling, { events: config.audit.events, batch, defaultWorkers });

  const live = await measureLive(testbed, liveBacklog, config.audit.rate);
  printLive(live, defaultWorkers);

  const committed = (await testbed.snapshot()).committed;
  const stored = await testbed.storedEvents();
  if (stored !== committed) throw new Error(`audit.events holds ${stored}, the heads ${committed}`);
  console.log(`\naudit.events holds ${formatCount(stored)} rows, as the chain heads count`);
  await running?.close();
  running = undefined;
  // Measured again with the service stopped: how far the machine's noise moved the ceiling.
  const after = await measureVerifyCeiling({ durationMs: config.caseMs, rounds: config.rounds });
  console.log(
    `raw verify on one core, measured again after the runs: ${formatCount(after.rawVerifyPerCore)}/s` +
      ` (before: ${formatCount(ceiling.rawVerifyPerCore)}/s)`,
  );
} finally {
  await running?.close();
  await testbed.close();
}
console.log(`whole run: ${seconds(performance.now() - began)} s`);
