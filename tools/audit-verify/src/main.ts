#!/usr/bin/env node
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { verifyBundleLines } from '@heroagent/audit-chain';
import { USAGE, UsageError, parseArguments, type VerifyArguments } from './arguments.js';

const EXIT_VERIFIED = 0;
const EXIT_NOT_VERIFIED = 1;
const EXIT_USAGE = 2;

async function run(args: VerifyArguments): Promise<number> {
  const input = args.bundle === '-' ? process.stdin : createReadStream(args.bundle);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('error', reject);
    input.once('readable', resolve);
    input.once('end', resolve);
  });
  try {
    await opened;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'READ_FAILED';
    process.stderr.write(`audit-verify: cannot read ${args.bundle} (${code})\n`);
    return EXIT_USAGE;
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const started = process.hrtime.bigint();
  const report = await verifyBundleLines(lines, {
    ...(args.pinned ? { trustedAuditKeys: args.trusted } : {}),
    requireCoveredTail: args.requireCoveredTail,
  });
  lines.close();
  input.destroy();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else if (report.ok) {
    process.stdout.write(
      `VERIFIED: ${report.events} events and ${report.checkpoints} checkpoints` +
        ` (${args.pinned ? `audit key pinned: ${[...args.trusted].join(', ')}` : 'NOT PINNED: internal consistency only'})` +
        ` in ${seconds.toFixed(2)} s\n`,
    );
  } else {
    const problem = report.firstProblem!;
    const where = [
      problem.line === undefined ? undefined : `line ${problem.line}`,
      problem.seq === undefined ? undefined : `event ${problem.seq}`,
    ]
      .filter(Boolean)
      .join(', ');
    process.stdout.write(
      `NOT VERIFIED${where ? ` at ${where}` : ''}: ${problem.code}: ${problem.message}\n`,
    );
    process.stdout.write(
      `(${report.events} events and ${report.checkpoints} checkpoints verified before it)\n`,
    );
  }
  return report.ok ? EXIT_VERIFIED : EXIT_NOT_VERIFIED;
}

let args: VerifyArguments;
try {
  args = parseArguments(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message ? `audit-verify: ${error.message}\n\n` : ''}${USAGE}\n`);
  process.exit(EXIT_USAGE);
}
process.exitCode = await run(args);
