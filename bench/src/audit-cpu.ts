// CPU time by who spent it, read from Linux's /proc: this process's threads by name, the
// nats-server this process started, and given Postgres backends. Elsewhere the figures are absent.
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Cumulative CPU milliseconds per party at one moment. */
export interface CpuReading {
  /** The main thread: the audit service's event loop. */
  readonly mainThread: number;
  /** worker_threads: the verifier pool (and the bench's store sampler). */
  readonly workerThreads: number;
  /** Everything else in this process: garbage collection, compilation, libuv. */
  readonly otherThreads: number;
  readonly natsServer: number;
  /** The given Postgres backends (audit's connections), since each started. */
  readonly postgresBackends: number;
  /** Busy time over all cores of the machine, and the total over all cores. */
  readonly machineBusy: number;
  readonly machineTotal: number;
}

/** Reads every party's CPU time now; `postgresPids` are backend process ids. */
export function readCpu(postgresPids: readonly number[] = []): CpuReading {
  let mainThread = 0;
  let workerThreads = 0;
  let otherThreads = 0;
  for (const task of listDirectory('/proc/self/task')) {
    const stat = readStat(`/proc/self/task/${task}/stat`);
    if (stat === undefined) continue;
    if (stat.name === 'MainThread') mainThread += stat.cpuMs;
    else if (stat.name === 'WorkerThread') workerThreads += stat.cpuMs;
    else otherThreads += stat.cpuMs;
  }
  let natsServer = 0;
  for (const entry of listDirectory('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(`/proc/${entry}/stat`);
    if (stat?.name === 'nats-server' && stat.parent === process.pid) natsServer += stat.cpuMs;
  }
  const postgresBackends = postgresPids
    .map((pid) => readStat(`/proc/${pid}/stat`)?.cpuMs ?? 0)
    .reduce((sum, ms) => sum + ms, 0);
  let machineBusy = 0;
  let machineTotal = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    machineTotal += all;
    machineBusy += all - times.idle;
  }
  return {
    mainThread,
    workerThreads,
    otherThreads,
    natsServer,
    postgresBackends,
    machineBusy,
    machineTotal,
  };
}

function listDirectory(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** Name, parent and CPU time (user + system) of a process or thread from its stat line. */
function readStat(path: string): { name: string; parent: number; cpuMs: number } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // it ended meanwhile, or this is not Linux
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
  const close = text.lastIndexOf(')');
  const name = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // After comm: state(0) ppid(1) … utime(11) stime(12), in clock ticks.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { name, parent: Number(fields[1]), cpuMs: (ticks * 1_000) / TICKS_PER_SECOND };
}
