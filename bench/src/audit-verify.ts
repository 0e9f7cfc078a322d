// The offline verifier (what `audit:verify` runs over an export) against the machine's own Ed25519
// ceiling: a valid bundle written to a file, read back line by line and verified in one pass.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { verifyBundleLines, type VerifyOptions } from '@heroagent/audit-chain';
import { testBundle } from '@heroagent/audit-chain/testing';
import { ed25519Fingerprint, generateSigningKey } from '@heroagent/crypto';
import { measureVerifyCeiling, printVerifyCeiling } from './audit-ceiling.js';
import { loadBenchConfig } from './config.js';
import { formatCount, printMachine, printTable, printTimedPlan } from './report.js';

const CHECKPOINT_EVERY = 1_000;
/** Timed passes over the file, after one untimed pass. */
const PASSES = 3;

const config = loadBenchConfig();
const events = config.audit.verifyEvents;
printMachine('offline audit bundle verification (verifyBundleLines) vs the Ed25519 ceiling');
printTimedPlan(config);
const ceiling = await measureVerifyCeiling({ durationMs: config.caseMs, rounds: config.rounds });
printVerifyCeiling(ceiling, 'one core');

const producer = generateSigningKey();
const audit = generateSigningKey();
const buildStart = performance.now();
const bundle = testBundle({
  tenantId: randomUUID(),
  producer,
  audit,
  count: events,
  checkpointEvery: CHECKPOINT_EVERY,
});
const buildMs = performance.now() - buildStart;
const checkpoints = Math.ceil(events / CHECKPOINT_EVERY);
// As the CLI runs it on an export: the audit key pinned and the tail covered by a checkpoint.
const options: VerifyOptions = {
  trustedAuditKeys: new Set([ed25519Fingerprint(audit.publicKey)]),
  requireCoveredTail: true,
};

const directory = await mkdtemp(join(tmpdir(), 'heroagent-bench-bundle-'));
try {
  const file = join(directory, 'bundle.jsonl');
  await writeFile(file, `${bundle.lines.join('\n')}\n`);
  const { size } = await stat(file);
  console.log(
    `\nbundle: ${formatCount(events)} events of one tenant, ${checkpoints} checkpoints (every` +
      ` ${formatCount(CHECKPOINT_EVERY)}), ${(size / 2 ** 20).toFixed(1)} MiB in a temp file;` +
      ` built and signed in ${(buildMs / 1_000).toFixed(2)} s (not timed)`,
  );

  const readLines = () =>
    createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  const verifyFile = async () => {
    const report = await verifyBundleLines(readLines(), options);
    // Asserted on every pass, so a rejected bundle can never print a figure.
    if (!report.ok || report.events !== events || report.checkpoints !== checkpoints) {
      throw new Error(`the bundle does not verify: ${JSON.stringify(report)}`);
    }
  };
  const readOnly = async () => {
    let count = 0;
    for await (const line of readLines()) count += line.length > 0 ? 1 : 0;
    if (count !== bundle.lines.length) throw new Error(`read ${count} of ${bundle.lines.length}`);
  };
  const timed = async (pass: () => Promise<void>) => {
    const start = performance.now();
    await pass();
    return (performance.now() - start) / 1_000;
  };

  await verifyFile();
  await readOnly();
  const verifySeconds: number[] = [];
  const readSeconds: number[] = [];
  const rawVerifyRates: number[] = [];
  // Alternated with a short raw-verify timing, so a burst of someone else's work lands on the
  // passes and on the ceiling they are compared with alike.
  for (let pass = 0; pass < PASSES; pass += 1) {
    verifySeconds.push(await timed(verifyFile));
    readSeconds.push(await timed(readOnly));
    const between = await measureVerifyCeiling({ durationMs: config.caseMs / 2, rounds: 1 });
    rawVerifyRates.push(between.rawVerifyPerCore);
  }

  const best = (list: readonly number[]) => Math.min(...list);
  const median = (list: readonly number[]) => [...list].sort((a, b) => a - b)[list.length >> 1]!;
  const rawVerify = median(rawVerifyRates);
  console.log(
    `\none thread: verifyBundleLines is single-threaded (one pass, in order), so its ceiling is` +
      ` the one-core raw verify, not × ${ceiling.cores} cores: ${formatCount(rawVerify)}/s as` +
      ` timed between the passes (median; ${formatCount(ceiling.rawVerifyPerCore)}/s above).` +
      ` ${PASSES} timed passes after an untimed one; each pass's report asserted ok.`,
  );
  const row = (name: string, runs: readonly number[], compare: boolean) => {
    const perSecond = events / median(runs);
    return [
      name,
      median(runs).toFixed(3),
      best(runs).toFixed(3),
      formatCount(perSecond),
      compare ? `${((perSecond / rawVerify) * 100).toFixed(0)}%` : '',
    ];
  };
  printTable(
    ['pass over the file', 'median s', 'best s', 'events/s (median)', 'of 1-core raw verify'],
    [
      row('readline only (read + split lines)', readSeconds, false),
      row('verifyBundleLines (report ok)', verifySeconds, true),
    ],
  );
  console.log(
    `per event: ${((median(verifySeconds) / events) * 1e6).toFixed(0)} µs verifying vs` +
      ` ${(1e6 / rawVerify).toFixed(0)} µs for the raw Ed25519 verify alone`,
  );
} finally {
  await rm(directory, { recursive: true, force: true });
}
