// How bench:audit-ingest prints its figures.
import { allCores, target, type VerifyCeiling } from './audit-ceiling.js';
import { DRAIN_POLL_MS, LIVE_POLL_MS, type DrainResult, type LiveResult } from './audit-measure.js';
import { formatCount, printTable } from './report.js';
import type { LatencySummary } from './stats.js';

/** What the drains ran with. */
export interface DrainPlan {
  readonly events: number;
  readonly batch: number;
  readonly defaultWorkers: number;
}

const percent = (value: number) => `${(value * 100).toFixed(0)}%`;
const cores = (value: number) => value.toFixed(2);

export function printDrains(
  drains: readonly DrainResult[],
  ceiling: VerifyCeiling,
  plan: DrainPlan,
): void {
  const name = (workers: number) =>
    workers === 0
      ? 'on the event loop (WORKERS=0)'
      : `${workers} worker threads${workers === plan.defaultWorkers ? ' (default)' : ''}`;
  console.log(
    `\n(a) backlog drain: ${formatCount(plan.events)} events loaded into the stream while audit is` +
      ` stopped, then audit started; the committed count polled every ~${DRAIN_POLL_MS} ms from a` +
      ' worker thread. Run in this order on one database (the second appends to longer chains).',
  );
  printTable(
    [
      'verification',
      'load ev/s',
      'boot ms',
      '1st commit ms',
      'all in s',
      'ev/s start→all',
      'ev/s steady',
      'of ceiling',
      'of target',
    ],
    drains.map((drain) => [
      name(drain.workers),
      formatCount(drain.publishPerSecond),
      formatCount(drain.bootMs),
      formatCount(drain.firstCommitMs),
      (drain.allCommittedMs / 1_000).toFixed(2),
      formatCount(drain.perSecond),
      formatCount(drain.steadyPerSecond),
      percent(drain.steadyPerSecond / allCores(ceiling)),
      percent(drain.steadyPerSecond / target(ceiling)),
    ]),
  );
  console.log(
    'load = publishing the backlog into JetStream (512 in flight, acknowledged); ev/s = received,' +
      ' verified, chained and committed; steady = first commit → last; ceiling =' +
      ` ${formatCount(allCores(ceiling))}/s, target = ${formatCount(target(ceiling))}/s`,
  );

  console.log('\nwhere the time goes, seen from outside (first commit → last):');
  printTable(
    [
      'verification',
      'commits seen',
      'median step',
      'median gap ms',
      'PG busy',
      'in trx, PG idle',
      'no trx',
      'event loop busy',
    ],
    drains.map(({ workers, observed }) => [
      name(workers),
      formatCount(observed.steps),
      formatCount(observed.medianStep),
      observed.medianGapMs.toFixed(0),
      percent(observed.postgresShare),
      percent(observed.inTransactionShare),
      percent(observed.outsideShare),
      percent(observed.eventLoopBusy),
    ]),
  );
  console.log(
    'commits seen: count increases between polls (commits closer than a poll merge); PG busy /' +
      " in trx, PG idle / no trx: share of polls in which one of audit's connections was running a" +
      ' statement / all were idle inside a transaction (the service between two statements) / none' +
      ' was in a transaction (pulling, verifying, acknowledging)',
  );
  for (const workers of new Set(drains.map((drain) => drain.workers))) {
    const ms = (plan.batch / (ceiling.checkerPerCore * Math.max(1, workers))) * 1_000;
    console.log(
      `model: a batch of ${plan.batch} checked ${workers === 0 ? 'inline' : `on ${workers} workers`}` +
        ` at the one-core IncomingChecker rate takes ≥ ${ms.toFixed(0)} ms; ingest runs one batch` +
        ' at a time: pull → verify → commit → ack',
    );
  }

  console.log(
    `\nCPU during the drain, in cores (CPU time ÷ wall time; the machine has ${ceiling.cores}):`,
  );
  printTable(
    [
      'verification',
      'main thread',
      'worker threads',
      'GC/JIT/libuv',
      'nats-server',
      'PG backends',
      'machine',
      'worker µs/event',
    ],
    drains.map(({ workers, events, allCommittedMs, observed: { cores: used } }) => [
      name(workers),
      cores(used.mainThread),
      cores(used.workerThreads),
      cores(used.otherThreads),
      cores(used.natsServer),
      cores(used.postgresBackends),
      cores(used.machine),
      workers === 0 ? '-' : formatCount((used.workerThreads * allCommittedMs * 1_000) / events),
    ]),
  );
  console.log(
    `from /proc: worker threads include the bench's store sampler; PG backends are audit's own` +
      ` connections (not the WAL writer); machine counts every process, other jobs' too. One` +
      ` IncomingChecker.check takes ${formatCount(1e6 / ceiling.checkerPerCore)} µs on one core.`,
  );
}

export function printLive(result: LiveResult, workers: number): void {
  console.log(
    `\n(b) live: ${formatCount(result.events)} events published at` +
      ` ${formatCount(result.targetRate)}/s from one connection while audit runs (${workers} workers)`,
  );
  console.log(
    `commit time is approximated: a sampler thread reads the committed count every ~${LIVE_POLL_MS}` +
      ' ms and takes event k as committed when the count reaches k (one publisher, one stream:' +
      ' commits follow publish order); figures are late by up to one poll and one query',
  );
  const row = (name: string, { p50, p99, max }: LatencySummary) => [
    name,
    p50.toFixed(1),
    p99.toFixed(1),
    max.toFixed(1),
  ];
  printTable(
    ['publish →', 'p50 ms', 'p99 ms', 'max ms'],
    [
      row('JetStream ack (stored in stream)', result.acked),
      row('committed in Postgres', result.committed),
      row('  committed, first second published', result.firstSecond),
      row('  committed, last second published', result.lastSecond),
    ],
  );
  console.log(
    `achieved publish rate: ${formatCount(result.achievedRate)} events/s` +
      ` (${percent(result.achievedRate / result.targetRate)} of the` +
      ` ${formatCount(result.targetRate)}/s asked)`,
  );
}
