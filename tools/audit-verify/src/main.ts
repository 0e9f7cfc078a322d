#!/usr/bin/env node
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { checkConsistency, parseKeptCheckpoint, verifyBundleLines } from '@heroagent/audit-chain';
import { USAGE, UsageError, parseArguments, type VerifyArguments } from './arguments.js';

const EXIT_VERIFIED = 0;
const EXIT_NOT_VERIFIED = 1;
const EXIT_USAGE = 2;
const FETCH_TIMEOUT_MS = 30_000;
/** Pages of checkpoints fetched at most (500 each: half a million, decades of hourly ones). */
const MAX_PAGES = 1000;

/** Input the verifier cannot use (a file it cannot read, a gateway that does not answer). */
class InputError extends Error {}

type SignedCheckpoint = ReturnType<typeof parseKeptCheckpoint>;

/** A file's text, or an input error naming why it cannot be read. */
async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'READ_FAILED'})`,
    );
  }
}

async function readKept(path: string): Promise<SignedCheckpoint> {
  const text = await readText(path);
  try {
    return parseKeptCheckpoint(text);
  } catch (error) {
    throw new InputError(`${path} is not a kept checkpoint: ${(error as Error).message}`);
  }
}

async function verifyBundle(args: VerifyArguments, bundle: string): Promise<number> {
  const since = args.since === undefined ? undefined : await readKept(args.since);
  const input = bundle === '-' ? process.stdin : createReadStream(bundle);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('error', reject);
    input.once('readable', resolve);
    input.once('end', resolve);
  });
  try {
    await opened;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'READ_FAILED';
    throw new InputError(`cannot read ${bundle} (${code})`);
  }
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const started = process.hrtime.bigint();
  const report = await verifyBundleLines(lines, {
    ...(args.pinned ? { trustedAuditKeys: args.trusted } : {}),
    requireCoveredTail: args.requireCoveredTail,
    ...(since === undefined ? {} : { since }),
  });
  lines.close();
  input.destroy();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else if (report.ok) {
    const extends_ =
      since === undefined
        ? ''
        : `, extending the kept checkpoint of ${since.checkpoint.treeSize} events${numbered(since)}`;
    process.stdout.write(
      `VERIFIED: ${report.events} events and ${report.checkpoints} checkpoints${extends_}` +
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

function numbered(signed: SignedCheckpoint): string {
  return signed.checkpoint.v === 2 ? ` (checkpoint number ${signed.checkpoint.index})` : '';
}

/** A saved answer of GET /v1/integrity/consistency?from=<kept size>. */
async function savedAnswer(path: string): Promise<unknown> {
  return parsedOrText(await readText(path));
}

/**
 * GET /v1/integrity/consistency?from=<kept size> from the gateway; with `sequenceFrom`, the page
 * of checkpoints from that number on.
 */
async function gatewayAnswer(
  source: { readonly url: URL; readonly cookie: string },
  kept: SignedCheckpoint,
  sequenceFrom: number | undefined,
): Promise<unknown> {
  const url = new URL('/v1/integrity/consistency', source.url);
  url.searchParams.set('from', String(kept.checkpoint.treeSize));
  if (sequenceFrom !== undefined) url.searchParams.set('sequenceFrom', String(sequenceFrom));
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { cookie: source.cookie, accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (error) {
    throw new InputError(
      `the gateway at ${source.url.origin} did not answer (${(error as Error).message})`,
    );
  }
  const text = await response.text();
  if (response.status !== 200) {
    throw new InputError(
      `the gateway answered ${response.status}: ${text.slice(0, 300).replace(/\s+/g, ' ')}`,
    );
  }
  return parsedOrText(text);
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON: the checker names it as a malformed answer.
    return text;
  }
}

async function sessionCookie(path: string): Promise<string> {
  const text = (await readText(path)).trim();
  if (!/^[A-Za-z0-9_.-]{1,100}=[^;\s]{1,4096}$/.test(text))
    throw new InputError(`${path} does not hold one cookie as name=value`);
  return text;
}

async function verifyConsistencyOnly(args: VerifyArguments): Promise<number> {
  const kept = await readKept(args.since!);
  const source = args.consistency!;
  let first: unknown;
  let next: (sequenceFrom: number) => Promise<unknown>;
  if (source.kind === 'file') {
    first = await savedAnswer(source.path);
    // A saved answer is one page: the rest is only at the gateway.
    next = () => Promise.resolve(undefined);
  } else {
    const gateway = { url: source.url, cookie: await sessionCookie(source.sessionFile) };
    first = await gatewayAnswer(gateway, kept, undefined);
    next = (sequenceFrom) => gatewayAnswer(gateway, kept, sequenceFrom);
  }
  const report = await checkConsistency(kept, first, next, args.trusted, {
    maxPages: MAX_PAGES,
    freshness: { maxAgeMs: args.maxAgeSeconds * 1000, now: new Date() },
  });
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else if (report.ok) {
    process.stdout.write(
      `VERIFIED: the tree of ${report.to!.treeSize} events${numberedReport(report.to!.index)}` +
        ` extends the kept tree of ${report.from.treeSize} events${numberedReport(report.from.index)};` +
        ` ${report.linked} later checkpoint${report.linked === 1 ? '' : 's'} linked without a gap (audit key pinned: ${[...args.trusted].join(', ')})\n`,
    );
  } else {
    const problem = report.firstProblem!;
    process.stdout.write(`NOT VERIFIED: ${problem.code}: ${problem.message}\n`);
  }
  return report.ok ? EXIT_VERIFIED : EXIT_NOT_VERIFIED;
}

function numberedReport(index: number | null): string {
  return index === null ? '' : ` (checkpoint number ${index})`;
}

async function run(args: VerifyArguments): Promise<number> {
  try {
    return args.bundle === undefined
      ? await verifyConsistencyOnly(args)
      : await verifyBundle(args, args.bundle);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    process.stderr.write(`audit-verify: ${error.message}\n`);
    return EXIT_USAGE;
  }
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
