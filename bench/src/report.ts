import { cpus, loadavg, release, totalmem } from 'node:os';

const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/**
 * Prints what a reader needs to judge the figures that follow: the machine and its noise. The
 * load average (1, 5 and 15 minutes) is printed now and again when the process exits, however the
 * bench ends, so a run's figures always come with the load at both ends.
 */
export function printMachine(title: string): void {
  const cpuList = cpus();
  console.log(`\n== ${title} ==`);
  console.log(
    `node ${process.version} (${process.platform}-${process.arch}, kernel ${release()}),` +
      ` ${cpuList.length} CPUs (${cpuList[0]?.model.trim() ?? 'unknown model'}),` +
      ` ${Math.round(totalmem() / 2 ** 30)} GiB, load average at the start ${loadAverage()}`,
  );
  console.log(
    'NOTE: a shared, noisy machine (other jobs run beside this one). Compare figures within one' +
      ' run; absolute numbers vary from run to run.',
  );
  process.once('exit', () => console.log(`\nload average at the end ${loadAverage()}`));
}

/** Prints rows as a table: the first column left-aligned, the others right-aligned. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** A count with thousands separators and no decimals. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A duration in microseconds: three significant digits below 100 µs, whole above. */
export function formatMicros(value: number): string {
  if (value >= 100) return formatCount(value);
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** A ratio such as `2.41×`. */
export function formatRatio(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** A difference in microseconds with its sign, such as `+41.2 µs`. */
export function formatMicrosDelta(value: number): string {
  return `${value < 0 ? '-' : '+'}${formatMicros(Math.abs(value))} µs`;
}

/** One in-process operation's figure. */
export interface OperationResult {
  readonly name: string;
  /** Size of what the operation works on, where that matters. */
  readonly bytes?: number;
  readonly perSecond: number;
}

/** Prints operations with their rate and the time one takes; sizes where the rows have them. */
export function printOperations(unit: string, rows: readonly OperationResult[]): void {
  const withBytes = rows.some((row) => row.bytes !== undefined);
  printTable(
    ['operation', ...(withBytes ? ['bytes'] : []), `${unit}/s`, `µs/${unit}`],
    rows.map((row) => [
      row.name,
      ...(withBytes ? [row.bytes === undefined ? '' : formatCount(row.bytes)] : []),
      formatCount(row.perSecond),
      formatMicros(1_000_000 / row.perSecond),
    ]),
  );
}

/** Says how the in-process cases are timed. */
export function printTimedPlan(plan: { readonly caseMs: number; readonly rounds: number }): void {
  console.log(
    `each case runs ${(plan.caseMs / 1_000).toFixed(1)} s in all, in ${plan.rounds} turns` +
      ' interleaved with the other cases, after a warm-up of a fifth of that\n',
  );
}
