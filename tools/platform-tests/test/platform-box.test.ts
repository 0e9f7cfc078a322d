import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoxPlatform } from '../box/box-platform.js';
import { boxOptionsFromEnv } from '../box/box-options.js';
import { runBox, type BoxFigures } from '../box/run-box.js';

/**
 * The platform in a box: a 3-node NATS cluster, two replicas of every service, one Postgres,
 * driven through both gateways while replicas and NATS nodes are killed with SIGKILL. CI runs it
 * with 30 s of load; `BOX_SECONDS=300 pnpm box` runs it longer.
 */
const options = boxOptionsFromEnv(process.env);

describe('the platform in a box: every service replicated, replicas and NATS nodes killed', () => {
  let box: BoxPlatform;
  let figures: BoxFigures;
  let failed = false;

  beforeAll(
    async () => {
      box = await BoxPlatform.start();
      figures = await runBox(box, options, (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`\nplatform in a box: ${JSON.stringify(figures, null, 2)}\n`);
    },
    (options.seconds + 400) * 1000,
  );

  afterAll(async () => {
    if (failed) process.stdout.write(`box logs kept in ${box.logs}\n`);
    await box?.close({ keepLogs: failed });
  }, 120_000);

  const check = (assertion: () => void) => () => {
    try {
      assertion();
    } catch (error) {
      failed = true;
      throw error;
    }
  };

  it(
    'was driven hard and broken often: replicas and NATS nodes killed while actions and sign-ins flowed',
    check(() => {
      expect(figures.kills.nats).toBeGreaterThan(0);
      const replicaKills = Object.entries(figures.kills)
        .filter(([part]) => part !== 'nats')
        .reduce((sum, [, count]) => sum + count, 0);
      expect(replicaKills).toBeGreaterThan(0);
      expect(figures.reads.admitted).toBeGreaterThan(0);
      expect(figures.sends.admitted).toBeGreaterThan(0);
      expect(figures.signIns.completed).toBeGreaterThan(0);
      // People's requests reached both gateways.
      expect(figures.servedByGateway).toHaveLength(2);
      expect(Math.min(...figures.servedByGateway)).toBeGreaterThan(0);
    }),
  );

  it(
    'lost no audit event and stored none twice; nothing was quarantined',
    check(() => {
      expect(figures.events.stored).toBeGreaterThan(0);
      expect(figures.events.lost).toBe(0);
      expect(figures.events.duplicated).toBe(0);
      expect(figures.events.quarantined).toBe(0);
    }),
  );

  it(
    'ran no action twice: no send reached Gmail twice, no action was executed twice',
    check(() => {
      expect(figures.sends.twice).toBe(0);
      expect(figures.executedTwice).toBe(0);
    }),
  );

  it(
    "verified every tenant's chain offline",
    check(() => {
      expect(figures.chains.failures).toEqual([]);
      expect(figures.chains.verified).toBe(figures.chains.tenants);
    }),
  );

  it(
    'never refreshed one connection twice at once across vault-proxy replicas',
    check(() => {
      expect(figures.refreshes.total).toBeGreaterThan(0);
      expect(figures.refreshes.overlapping).toBe(0);
    }),
  );
});
