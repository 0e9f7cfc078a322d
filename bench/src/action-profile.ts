// Where an action's time goes in the processes we write: the same platform as bench:action-roundtrip
// (gateway, vault-proxy and the doubles in this process), warmed up, then V8's sampling profiler
// on for the measured phase only — the reads and writes, one at a time and then 32 in flight —
// through the inspector (node:inspector/promises). It writes the .cpuprofile (open it in Chrome's
// DevTools or speedscope) and prints the self time by package or area of this repository, by
// file and by function, and which of our functions the time was spent for. Postgres and
// nats-server are other processes: while this one waits on them its main thread is idle.
//
//   pnpm --filter @heroagent/bench build
//   pnpm --filter @heroagent/bench bench:action-profile   # BENCH_ACTION_REQUESTS etc. as usual
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { startActionPlatform } from './action-platform.js';
import { actionKinds } from './agent-actions.js';
import { loadBenchConfig } from './config.js';
import { summarizeProfile, type SelfTime } from './cpu-profile.js';
import { formatCount, printMachine, printTable } from './report.js';
import { concurrentSeconds, sequentialLatencies, warmUp } from './timing.js';

/** µs between samples: fine enough for a ~10 ms action, coarse enough to cost little. */
const SAMPLING_INTERVAL = 250;
const TOP = 25;
const ROOT = new URL('../../', import.meta.url);
const OUT = new URL('bench/profiles/', ROOT);

const config = loadBenchConfig();
const { requests, throughputRequests } = config.action;
const warmup = Math.min(config.warmup, 200);
printMachine('where an action’s time goes: a CPU profile of the gateway and vault-proxy');

// Per kind: one check per person, the warm-up, then the profiled requests.
const platform = await startActionPlatform(2 * (1 + warmup + requests + throughputRequests));
const session = new Session();
try {
  const { read, write } = actionKinds(platform);
  const kinds = [read, write];
  for (let person = 0; person < platform.people; person += 1)
    for (const kind of kinds) await kind.action();
  for (const kind of kinds) await warmUp(kind.action, warmup);

  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL });
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  await session.post('Profiler.start');
  for (const kind of kinds) {
    await sequentialLatencies(kind.action, requests);
    await concurrentSeconds(kind.action, throughputRequests, config.concurrency);
  }
  const { profile } = await session.post('Profiler.stop');
  const wallMs = performance.now() - began;
  const cpu = process.cpuUsage(cpuBefore);

  await mkdir(OUT, { recursive: true });
  const file = new URL(`action-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`, OUT);
  await writeFile(file, JSON.stringify(profile));
  const summary = summarizeProfile(profile, { root: ROOT.href, top: TOP });
  const actions = kinds.length * (requests + throughputRequests);
  console.log(
    `profiled: ${formatCount(actions)} actions (${kinds.map((kind) => kind.type).join(', ')}:` +
      ` ${formatCount(requests)} one at a time, then ${formatCount(throughputRequests)} with` +
      ` ${config.concurrency} in flight, each) after ${formatCount(warmup)} warm-up each, over` +
      ` ${platform.people} people; ${formatCount(summary.samples)} samples every` +
      ` ${SAMPLING_INTERVAL} µs`,
  );
  console.log(`written to ${file.pathname} (git-ignored)`);
  const ms = (micros: number) => (micros / 1_000).toFixed(0);
  const cpuMs = (cpu.user + cpu.system) / 1_000;
  console.log(
    `\nthis process: ${ms(wallMs * 1_000)} ms wall, ${cpuMs.toFixed(0)} ms CPU on all its threads` +
      ` (${(cpuMs / wallMs).toFixed(2)} cores), ${(cpuMs / actions).toFixed(2)} ms CPU per action` +
      ` (gateway, vault-proxy, the doubles and the agent's client together). Its main thread was` +
      ` not idle for ${ms(summary.busyMicros)} of ${ms(summary.sampledMicros)} ms sampled` +
      ` (${share(summary.busyMicros / summary.sampledMicros)}; on a loaded machine that includes` +
      ' time the OS gave other processes); idle, it waited on Postgres, nats-server and I/O.',
  );
  const table = (title: string, rows: readonly SelfTime[], withArea: boolean) => {
    console.log(`\n${title}`);
    printTable(
      [
        withArea ? 'function or file' : 'package or area',
        ...(withArea ? ['area'] : []),
        'self ms',
        '% of sampled',
        '% of busy',
      ],
      rows.map((row) => [
        row.name,
        ...(withArea ? [row.area] : []),
        ms(row.micros),
        share(row.share),
        row.area === '(idle)' ? '' : share(row.micros / summary.busyMicros),
      ]),
    );
  };
  table(
    'self time by package or area (services/* and libs/* are this repository; (wasm) is the Cedar' +
      ' policy engine, the only WebAssembly loaded; (native) is code in C++ called from JavaScript):',
    summary.areas,
    false,
  );
  table(`the ${TOP} files with the most self time:`, summary.files, true);
  table(`the ${TOP} functions with the most self time:`, summary.functions, true);
  table(
    `the ${TOP} functions of this repository the time was spent for (each sample charged to the` +
      ' innermost services/* or libs/* frame on its stack, in whatever library it ran):',
    summary.repositoryCallers,
    true,
  );
} finally {
  session.disconnect();
  await platform.close();
}

function share(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}
