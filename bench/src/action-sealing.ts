import { Sealer } from '@heroagent/gateway';
import { summarize } from './stats.js';

/**
 * The time one action spends sealing and opening personal data (its parameters, rationale,
 * result and audit fields), measured inside the gateway's Sealer over `count` sequential actions:
 * the per-action sum, and how many seals and opens an action makes.
 */
export async function measureSealing(call: () => Promise<unknown>, count: number) {
  // Wrapped in place for this measurement, and put back after it.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply below
  const seal = Sealer.prototype.seal;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply below
  const open = Sealer.prototype.open;
  let spent = 0n;
  let seals = 0;
  let opens = 0;
  Sealer.prototype.seal = function (this: Sealer, ...args: Parameters<typeof seal>) {
    const start = process.hrtime.bigint();
    try {
      return seal.apply(this, args);
    } finally {
      spent += process.hrtime.bigint() - start;
      seals += 1;
    }
  };
  Sealer.prototype.open = function (this: Sealer, ...args: Parameters<typeof open>) {
    const start = process.hrtime.bigint();
    try {
      return open.apply(this, args);
    } finally {
      spent += process.hrtime.bigint() - start;
      opens += 1;
    }
  };
  const perAction: number[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
      spent = 0n;
      await call();
      perAction.push(Number(spent) / 1000);
    }
  } finally {
    Sealer.prototype.seal = seal;
    Sealer.prototype.open = open;
  }
  return { latency: summarize(perAction), seals: seals / count, opens: opens / count };
}
