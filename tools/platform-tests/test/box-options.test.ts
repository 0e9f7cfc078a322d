import { describe, expect, it } from 'vitest';
import { boxOptionsFromEnv } from '../box/box-options.js';

describe("the box's settings", () => {
  it("are CI's when unset, and what the environment says otherwise", () => {
    expect(boxOptionsFromEnv({})).toMatchObject({ seconds: 30, workers: 24, natsKillEvery: 6 });
    expect(boxOptionsFromEnv({ BOX_SECONDS: '300', BOX_NATS_KILL_EVERY: '0' })).toMatchObject({
      seconds: 300,
      natsKillEvery: 0,
    });
  });

  it.each([
    ['BOX_SECONDS', 'abc'],
    ['BOX_SECONDS', '4'],
    ['BOX_WORKERS', '2.5'],
    ['BOX_KILL_EVERY_MS', '-1'],
    ['BOX_PEOPLE', '1e3'],
  ])('refuse %s=%s by name, with a code', (name, value) => {
    expect(() => boxOptionsFromEnv({ [name]: value })).toThrow(
      new RegExp(`^INVALID_CONFIG: ${name} must be a whole number`),
    );
  });
});
