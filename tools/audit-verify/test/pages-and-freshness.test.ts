import { afterEach, describe, expect, it } from 'vitest';
import { ed25519Fingerprint, generateSigningKey } from '@heroagent/crypto';
import { FakeGateway } from './fake-gateway.js';
import { runCli } from './run-cli.js';
import { WitnessHistory } from './witness-history.js';

const HOUR_MS = 3_600_000;

/**
 * `audit:verify --since --gateway` when the checkpoints since the kept one fill more than one
 * answer (the gateway lists 500 at a time), and when the server shows an old view.
 */
describe('pnpm audit:verify --since --gateway: pages and freshness', () => {
  const audit = generateSigningKey();
  const trust = ed25519Fingerprint(audit.publicKey);
  let gateway: FakeGateway | undefined;
  const start = async (history: WitnessHistory, keptIndex: number) => {
    gateway = await FakeGateway.start(history.checkpoints[keptIndex]!);
    return gateway;
  };
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it('pages through more re-signed checkpoints than one answer holds, asking from the last one it linked', async () => {
    // Kept number 2; then 1,100 idle re-signs: three pages of 500.
    const history = new WitnessHistory(audit).append(3).sign().append(1).sign().sign(1_100);
    const fake = await start(history, 1);
    fake.serve(({ from, sequenceFrom }) => history.answer(from, sequenceFrom));
    const result = await fake.witness(trust);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'extends the kept tree of 4 events (checkpoint number 2); 1100 later checkpoints linked without a gap',
    );
    expect(fake.requests.map(({ url }) => url)).toEqual([
      '/v1/integrity/consistency?from=4',
      '/v1/integrity/consistency?from=4&sequenceFrom=501',
      '/v1/integrity/consistency?from=4&sequenceFrom=1000',
    ]);
  });

  it('follows the latest checkpoint when more are signed while it pages', async () => {
    const history = new WitnessHistory(audit).append(3).sign().append(1).sign().sign(600);
    const fake = await start(history, 1);
    fake.serve(({ from, sequenceFrom }) => {
      if (sequenceFrom !== undefined) history.append(2).sign(3);
      return history.answer(from, sequenceFrom);
    });
    const result = await fake.witness(trust, ['--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      to: { treeSize: 6, index: 605 },
      linked: 603,
    });
  });

  it('refuses a page that does not start where it was asked to', async () => {
    const history = new WitnessHistory(audit).append(3).sign().append(1).sign().sign(600);
    const fake = await start(history, 1);
    // The second page skips checkpoint 501, the last of the first page.
    fake.serve(({ from, sequenceFrom }) =>
      history.answer(from, sequenceFrom === undefined ? undefined : sequenceFrom + 1),
    );
    const result = await fake.witness(trust, ['--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      firstProblem: { code: 'CHECKPOINT_GAP' },
    });
  });

  it('gives up, coded, on a server whose pages never end', async () => {
    const history = new WitnessHistory(audit).append(3).sign().append(1).sign().sign(2);
    const fake = await start(history, 1);
    // Holding the audit key, it signs one more checkpoint for every page asked, for ever.
    fake.serve(({ from, sequenceFrom }) => {
      history.sign();
      const page = history.answer(from, sequenceFrom, 2);
      return { ...page, sequenceComplete: false };
    });
    const result = await fake.witness(trust, ['--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      firstProblem: { code: 'SEQUENCE_UNENDING' },
    });
    expect(fake.requests).toHaveLength(1000);
  });

  it('refuses a latest checkpoint older than the bound (a frozen view), unless told to allow it', async () => {
    // Every checkpoint signed five hours ago, as if nothing was signed since: a server showing
    // an old view (audit signs at least hourly).
    const old = new Date(Date.now() - 5 * HOUR_MS);
    const history = new WitnessHistory(audit, undefined, old).append(3).sign().append(1).sign(3);
    const fake = await start(history, 1);
    fake.serve(({ from, sequenceFrom }) => history.answer(from, sequenceFrom));
    const stale = await fake.witness(trust);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toContain('NOT VERIFIED: LATEST_CHECKPOINT_STALE');
    expect(stale.stdout).toMatch(/is 29\d minutes old, more than the 90 allowed/);
    const bounded = await fake.witness(trust, ['--max-age', String(6 * 3600), '--json']);
    expect(bounded.code).toBe(0);
    const tight = await fake.witness(trust, ['--max-age', String(4 * 3600), '--json']);
    expect(JSON.parse(tight.stdout)).toMatchObject({
      firstProblem: { code: 'LATEST_CHECKPOINT_STALE' },
    });
  });

  it('refuses a bad --max-age, and one without a consistency answer', async () => {
    const history = new WitnessHistory(audit).append(1).sign();
    const fake = await start(history, 0);
    for (const value of ['0', '-5', '1.5', 'an hour', '1e4']) {
      const result = await fake.witness(trust, ['--max-age', value]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--max-age needs a whole number of seconds');
    }
    expect(fake.requests).toEqual([]);
    const bundle = await runCli(['bundle.jsonl', '--trust', trust, '--max-age', '60']);
    expect(bundle.code).toBe(2);
    expect(bundle.stderr).toContain('--max-age goes with --consistency or --gateway');
  });
});
