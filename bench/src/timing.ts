// Plain timing loops on process.hrtime.bigint(): enough for figures printed side by side in one
// run, and no benchmark library to keep up to date.

/** Microseconds since `start`, a process.hrtime.bigint() reading. */
function microsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1_000;
}

/** Makes `count` calls one after another without timing them (JIT, connections, caches). */
export async function warmUp(call: () => Promise<unknown>, count: number): Promise<void> {
  for (let done = 0; done < count; done += 1) await call();
}

/** Makes `count` calls one after another and returns each one's duration in microseconds. */
export async function sequentialLatencies(
  call: () => Promise<unknown>,
  count: number,
): Promise<number[]> {
  const latencies = new Array<number>(count);
  for (let index = 0; index < count; index += 1) {
    const start = process.hrtime.bigint();
    await call();
    latencies[index] = microsSince(start);
  }
  return latencies;
}

/** Makes `total` calls with `concurrency` of them in flight at all times; returns the seconds taken. */
export async function concurrentSeconds(
  call: () => Promise<unknown>,
  total: number,
  concurrency: number,
): Promise<number> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started += 1;
      await call();
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return microsSince(start) / 1_000_000;
}

/** Operations completed and the seconds they took. */
interface Tally {
  completed: number;
  seconds: number;
}

// Calls between clock readings, so reading the clock costs little next to a fast operation.
const BATCH = 16;
// Results are stored here so the engine cannot drop a call whose result nobody reads.
let _sink: unknown;

function runFor(operation: () => unknown, ms: number): Tally {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(ms * 1e6));
  let completed = 0;
  while (process.hrtime.bigint() < deadline) {
    for (let index = 0; index < BATCH; index += 1) _sink = operation();
    completed += BATCH;
  }
  return { completed, seconds: microsSince(start) / 1_000_000 };
}

async function runForAsync(
  operation: () => Promise<unknown>,
  ms: number,
  concurrency: number,
): Promise<Tally> {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(ms * 1e6));
  let completed = 0;
  const worker = async () => {
    while (process.hrtime.bigint() < deadline) {
      await operation();
      completed += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { completed, seconds: microsSince(start) / 1_000_000 };
}

/** How long to run each operation, and in how many turns. */
export interface TimedPlan {
  /** Time per operation, over all rounds; each also gets a fifth of it as warm-up. */
  readonly durationMs: number;
  readonly rounds: number;
}

/**
 * Ops/s of each synchronous operation. They run in turns (a share of the time each, in rotating
 * order, `rounds` times), so a burst of someone else's work on a shared machine lands on all of
 * them alike and the figures stay comparable with each other.
 */
export function compareOpsPerSecond(
  operations: readonly (() => unknown)[],
  plan: TimedPlan,
): Promise<number[]> {
  return inTurns(operations.length, plan, (index, ms) => runFor(operations[index]!, ms));
}

/** {@link compareOpsPerSecond} for asynchronous operations, `concurrency` of each in flight. */
export function compareAsyncOpsPerSecond(
  operations: readonly (() => Promise<unknown>)[],
  plan: TimedPlan & { readonly concurrency: number },
): Promise<number[]> {
  return inTurns(operations.length, plan, (index, ms) =>
    runForAsync(operations[index]!, ms, plan.concurrency),
  );
}

async function inTurns(
  count: number,
  plan: TimedPlan,
  runTurn: (index: number, ms: number) => Tally | Promise<Tally>,
): Promise<number[]> {
  for (let index = 0; index < count; index += 1) await runTurn(index, plan.durationMs / 5);
  const tallies = Array.from({ length: count }, (): Tally => ({ completed: 0, seconds: 0 }));
  for (let round = 0; round < plan.rounds; round += 1) {
    for (let turn = 0; turn < count; turn += 1) {
      const index = (round + turn) % count;
      const { completed, seconds } = await runTurn(index, plan.durationMs / plan.rounds);
      tallies[index]!.completed += completed;
      tallies[index]!.seconds += seconds;
    }
  }
  return tallies.map(({ completed, seconds }) => completed / seconds);
}
