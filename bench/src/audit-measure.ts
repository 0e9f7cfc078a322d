// The two audit ingest measurements, seen from outside the service: how fast it drains a backlog,
// and how long a steadily published event takes to be committed. The store is polled from a
// worker thread (CommitSampler), so the service blocking this thread delays no sample.
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningService } from '@heroagent/service';
import { clock, type StoreSample } from './audit-sampler.js';
import type { AuditTestbed, WireEvent } from './audit-testbed.js';
import { readCpu, type CpuReading } from './audit-cpu.js';
import { summarize, type LatencySummary } from './stats.js';

export const DRAIN_POLL_MS = 10;
export const LIVE_POLL_MS = 2;
/** Longest wait for the last event to commit before the run is called stuck. */
const STUCK_MS = 120_000;

/** Where the drain spent its time, as far as can be seen from outside the service. */
export interface DrainObservation {
  /** Count increases seen by the sampler: commits, or several merged if closer than a poll. */
  readonly steps: number;
  readonly medianStep: number;
  readonly medianGapMs: number;
  /** Shares of polls (first to last commit) in which audit's connections were… */
  readonly postgresShare: number;
  readonly inTransactionShare: number;
  readonly outsideShare: number;
  /** Busy share of this process's main thread: the service's event loop. */
  readonly eventLoopBusy: number;
  /** CPU time over wall time, in cores, of each party (see CpuReading). */
  readonly cores: Omit<CpuReading, 'machineBusy' | 'machineTotal'> & { readonly machine: number };
}

/** One backlog drain. */
export interface DrainResult {
  readonly workers: number;
  readonly events: number;
  /** Events/s into JetStream (file storage, acknowledged), loading the backlog. */
  readonly publishPerSecond: number;
  /** From `startAudit` called to it resolving (no migrations left: the schema is primed). */
  readonly bootMs: number;
  readonly firstCommitMs: number;
  readonly allCommittedMs: number;
  /** N ÷ (start called → all committed). */
  readonly perSecond: number;
  /** Events after the first commit ÷ (first commit → all committed): the steady drain. */
  readonly steadyPerSecond: number;
  readonly observed: DrainObservation;
}

/**
 * Loads `events` into the stream while the service is stopped, then starts it with `workers`
 * verification threads and waits until every event is committed. Returns the running service.
 */
export async function measureDrain(
  testbed: AuditTestbed,
  events: readonly WireEvent[],
  workers: number,
): Promise<{ result: DrainResult; running: RunningService }> {
  const base = (await testbed.snapshot()).committed;
  const loadStart = performance.now();
  await testbed.publishAll(events);
  const publishPerSecond = events.length / ((performance.now() - loadStart) / 1_000);

  const sampler = testbed.sampler(DRAIN_POLL_MS);
  let running: RunningService | undefined;
  try {
    await sampler.started();
    const cpuBefore = readCpu();
    const loopBefore = performance.eventLoopUtilization();
    const start = clock();
    running = await testbed.start(workers);
    const bootMs = clock() - start;
    const done = await sampler.until(base + events.length, STUCK_MS);
    // Backends were opened by this start, so their whole CPU time falls in this drain.
    const cpu = readCpu(await testbed.backendPids());
    const loop = performance.eventLoopUtilization(loopBefore);
    const wallMs = clock() - start;
    await sampler.stop();

    const window = sampler.samples
      .filter((sample) => sample.at >= start && sample.at <= done.at)
      .map((sample) => ({ ...sample, committed: sample.committed - base }));
    const firstIndex = window.findIndex((sample) => sample.committed > 0);
    const first = window[firstIndex]!;
    const committing = window.slice(firstIndex);
    const result: DrainResult = {
      workers,
      events: events.length,
      publishPerSecond,
      bootMs,
      firstCommitMs: first.at - start,
      allCommittedMs: done.at - start,
      perSecond: events.length / ((done.at - start) / 1_000),
      steadyPerSecond:
        (events.length - first.committed) / Math.max(1e-3, (done.at - first.at) / 1_000),
      observed: {
        ...commitSteps(committing),
        ...connectionShares(committing),
        eventLoopBusy: loop.utilization,
        cores: {
          mainThread: (cpu.mainThread - cpuBefore.mainThread) / wallMs,
          workerThreads: (cpu.workerThreads - cpuBefore.workerThreads) / wallMs,
          otherThreads: (cpu.otherThreads - cpuBefore.otherThreads) / wallMs,
          natsServer: (cpu.natsServer - cpuBefore.natsServer) / wallMs,
          postgresBackends: cpu.postgresBackends / wallMs,
          machine:
            ((cpu.machineBusy - cpuBefore.machineBusy) /
              (cpu.machineTotal - cpuBefore.machineTotal)) *
            cpus().length,
        },
      },
    };
    return { result, running };
  } catch (error) {
    await sampler.stop().catch(() => undefined);
    await running?.close();
    throw error;
  }
}

/** Publish→commit latency of events published at a steady rate. */
export interface LiveResult {
  readonly events: number;
  readonly targetRate: number;
  readonly achievedRate: number;
  /** Publish → JetStream's acknowledgement (stored in the stream), ms. */
  readonly acked: LatencySummary;
  /** Publish → seen committed by the sampler, ms. */
  readonly committed: LatencySummary;
  /** Publish → committed of the events published in the first and in the last second, ms. */
  readonly firstSecond: LatencySummary;
  readonly lastSecond: LatencySummary;
}

/**
 * Publishes `events` at `rate` per second from one connection while the service runs, recording
 * each event's publish time in order. A sampler reads the committed count every ~2 ms; event k
 * counts as committed at the first sample that reaches k (one publisher and one stream: stream
 * order is publish order, and batches commit in stream order).
 */
export async function measureLive(
  testbed: AuditTestbed,
  events: readonly WireEvent[],
  rate: number,
): Promise<LiveResult> {
  const total = events.length;
  const base = (await testbed.snapshot()).committed;
  const publishedAt = new Float64Array(total);
  const ackedAt = new Float64Array(total);
  const acks: Promise<void>[] = [];
  const sampler = testbed.sampler(LIVE_POLL_MS);
  try {
    await sampler.started();
    const start = clock();
    let sent = 0;
    while (sent < total) {
      // Catches up after a late timer, so the rate holds on average, as a busy producer's would.
      const due = Math.min(total, Math.floor(((clock() - start) * rate) / 1_000) + 1);
      for (; sent < due; sent += 1) {
        const index = sent;
        const event = events[index]!;
        publishedAt[index] = clock();
        const ack = testbed.js.publish(event.subject, event.body, { msgID: event.id }).then(() => {
          ackedAt[index] = clock();
        });
        // A failure surfaces from Promise.all below; this only keeps it from going unhandled.
        ack.catch(() => undefined);
        acks.push(ack);
      }
      await sleep(1);
    }
    await Promise.all(acks);
    await sampler.until(base + total, STUCK_MS);
  } finally {
    await sampler.stop();
  }

  const committedAt = new Float64Array(total);
  let next = 0;
  for (const sample of sampler.samples) {
    for (; next < Math.min(total, sample.committed - base); next += 1) {
      committedAt[next] = sample.at;
    }
  }
  const between = (from: Float64Array, to: Float64Array) =>
    summarize(Array.from(from, (value, index) => to[index]! - value));
  const firstAt = publishedAt[0]!;
  const lastAt = publishedAt[total - 1]!;
  const committedWhere = (published: (at: number) => boolean) =>
    summarize(
      Array.from(publishedAt, (at, index) =>
        published(at) ? committedAt[index]! - at : -1,
      ).filter((latency) => latency >= 0),
    );
  return {
    events: total,
    targetRate: rate,
    achievedRate: (total - 1) / ((lastAt - firstAt) / 1_000),
    acked: between(publishedAt, ackedAt),
    committed: between(publishedAt, committedAt),
    firstSecond: committedWhere((at) => at - firstAt < 1_000),
    lastSecond: committedWhere((at) => lastAt - at < 1_000),
  };
}

function commitSteps(
  samples: readonly StoreSample[],
): Pick<DrainObservation, 'steps' | 'medianStep' | 'medianGapMs'> {
  const growth: { at: number; grew: number }[] = [];
  for (let index = 1; index < samples.length; index += 1) {
    const grew = samples[index]!.committed - samples[index - 1]!.committed;
    if (grew > 0) growth.push({ at: samples[index]!.at, grew });
  }
  const gaps = growth.slice(1).map((step, index) => step.at - growth[index]!.at);
  return {
    steps: growth.length + 1,
    medianStep: summarize([samples[0]?.committed ?? 0, ...growth.map((step) => step.grew)]).p50,
    medianGapMs: gaps.length > 0 ? summarize(gaps).p50 : 0,
  };
}

function connectionShares(
  samples: readonly StoreSample[],
): Pick<DrainObservation, 'postgresShare' | 'inTransactionShare' | 'outsideShare'> {
  const count = Math.max(1, samples.length);
  const postgres = samples.filter((sample) => sample.active > 0).length;
  const inTransaction = samples.filter(
    (sample) => sample.active === 0 && sample.idleInTransaction > 0,
  ).length;
  return {
    postgresShare: postgres / count,
    inTransactionShare: inTransaction / count,
    outsideShare: (count - postgres - inTransaction) / count,
  };
}
