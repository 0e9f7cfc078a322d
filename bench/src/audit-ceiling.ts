// The ceiling an audit figure is judged against: this machine's own Ed25519 verification rate,
// measured in the same run as the figure, so a slow or busy machine lowers both alike.
import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { IncomingChecker } from '@heroagent/audit-chain';
import { signedTestEvent } from '@heroagent/audit-chain/testing';
import {
  ed25519Sign,
  ed25519Verify,
  exportEd25519PublicKey,
  generateSigningKey,
  toBase64Url,
} from '@heroagent/crypto';
import { formatCount, printOperations } from './report.js';
import { compareOpsPerSecond, type TimedPlan } from './timing.js';

/** Share of the all-core verification ceiling that ingest is expected to reach. */
export const TARGET_SHARE = 0.6;

/** One-core verification rates and the cores they scale to. */
export interface VerifyCeiling {
  /** `ed25519Verify` of a 1 KiB message, per second on one core. */
  readonly rawVerifyPerCore: number;
  /** `IncomingChecker.check` of a realistic signed event, per second on one core. */
  readonly checkerPerCore: number;
  readonly cores: number;
  readonly messageBytes: number;
  readonly eventBytes: number;
}

/** Raw verification over all cores: no verifier of signed events can go faster on this machine. */
export const allCores = (ceiling: VerifyCeiling): number =>
  ceiling.rawVerifyPerCore * ceiling.cores;

/** What ingest is asked to reach: {@link TARGET_SHARE} of {@link allCores}. */
export const target = (ceiling: VerifyCeiling): number => allCores(ceiling) * TARGET_SHARE;

/**
 * Measures (a) a raw Ed25519 verify of a 1 KiB message and (b) `IncomingChecker.check` of a
 * realistic event — what ingest runs per event: JSON parse, schema, canonical JSON, verify, leaf
 * hash — each on this thread, in interleaved turns.
 */
export async function measureVerifyCeiling(plan: TimedPlan): Promise<VerifyCeiling> {
  const key = generateSigningKey();
  const message = randomBytes(1_024);
  const signature = ed25519Sign(message, key.privateKey);
  const tenantId = randomUUID();
  const envelope = signedTestEvent(key, tenantId);
  const incoming = {
    subject: `audit.events.${tenantId}`,
    data: Buffer.from(JSON.stringify(envelope), 'utf8'),
  };
  const checker = new IncomingChecker([
    {
      kid: key.kid,
      service: 'gateway',
      publicKey: toBase64Url(exportEd25519PublicKey(key.publicKey)),
      notBefore: '2020-01-01T00:00:00Z',
    },
  ]);
  // Checked once before timing, so a broken check cannot print a fast figure.
  if (!ed25519Verify(message, signature, key.publicKey)) throw new Error('raw verify fails');
  const verdict = checker.check(incoming);
  if (!verdict.ok) throw new Error(`the test event is refused: ${verdict.reason}`);

  const [rawVerifyPerCore, checkerPerCore] = await compareOpsPerSecond(
    [() => ed25519Verify(message, signature, key.publicKey), () => checker.check(incoming)],
    plan,
  );
  return {
    rawVerifyPerCore: rawVerifyPerCore!,
    checkerPerCore: checkerPerCore!,
    cores: availableParallelism(),
    messageBytes: message.byteLength,
    eventBytes: incoming.data.byteLength,
  };
}

/** Prints the one-core rates and, for a verifier that uses every core, the ceiling and target. */
export function printVerifyCeiling(ceiling: VerifyCeiling, scope: 'one core' | 'all cores'): void {
  console.log('one core (this thread):');
  printOperations('op', [
    {
      name: 'ed25519Verify (raw, 1 KiB message)',
      bytes: ceiling.messageBytes,
      perSecond: ceiling.rawVerifyPerCore,
    },
    {
      name: 'IncomingChecker.check (signed event)',
      bytes: ceiling.eventBytes,
      perSecond: ceiling.checkerPerCore,
    },
  ]);
  const share = ((ceiling.checkerPerCore / ceiling.rawVerifyPerCore) * 100).toFixed(0);
  if (scope === 'one core') {
    console.log(`a whole IncomingChecker.check runs at ${share}% of a raw verify`);
    return;
  }
  console.log(
    `\nceiling over all ${ceiling.cores} cores (raw verify × ${ceiling.cores}):` +
      ` ${formatCount(allCores(ceiling))} events/s` +
      `\ntarget (${TARGET_SHARE * 100}% of that ceiling): ${formatCount(target(ceiling))} events/s` +
      `\nIncomingChecker × ${ceiling.cores}: ${formatCount(ceiling.checkerPerCore * ceiling.cores)}` +
      ` events/s (a whole check runs at ${share}% of a raw verify)`,
  );
}
