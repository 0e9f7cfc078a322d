import type { BoxOptions } from './run-box.js';

/**
 * The box's settings from the environment (`BOX_SECONDS`, `BOX_WORKERS`, `BOX_PEOPLE`,
 * `BOX_KILL_EVERY_MS`, `BOX_NATS_KILL_EVERY`), each a whole number within bounds; unset, CI's.
 */
export function boxOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): BoxOptions {
  const knob = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new Error(
        `INVALID_CONFIG: ${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}`,
      );
    }
    return value;
  };
  return {
    seconds: knob('BOX_SECONDS', 30, 5, 7200),
    workers: knob('BOX_WORKERS', 24, 1, 512),
    people: knob('BOX_PEOPLE', 8, 1, 200),
    killEveryMs: knob('BOX_KILL_EVERY_MS', 900, 100, 3_600_000),
    natsKillEvery: knob('BOX_NATS_KILL_EVERY', 6, 0, 1000),
    sendShare: 0.3,
  };
}
