import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PersonQueue } from './admission-locks.js';

describe("a person's queue of admissions in this process", () => {
  it('runs one person’s work one at a time, in order, and others’ beside it, past failures', async () => {
    const queue = new PersonQueue();
    const tenant = randomUUID();
    const [ada, bob] = [randomUUID(), randomUUID()];
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const work =
      (name: string, fail = false) =>
      async () => {
        running += 1;
        most = Math.max(most, running);
        log.push(`${name} in`);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`${name} out`);
        running -= 1;
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.run(tenant, ada, work('a1')),
      queue.run(tenant, ada, work('a2', true)),
      queue.run(tenant, ada, work('a3')),
      queue.run(tenant, bob, work('b1')),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const adas = log.filter((line) => line.startsWith('a'));
    expect(adas).toEqual(['a1 in', 'a1 out', 'a2 in', 'a2 out', 'a3 in', 'a3 out']);
    // Bob's work ran beside Ada's, not after it.
    expect(log.indexOf('b1 in')).toBeLessThan(log.indexOf('a1 out'));
    expect(most).toBe(2);
  });

  it('turns away a person’s requests beyond the most that may wait, with RATE_LIMITED', async () => {
    const queue = new PersonQueue(2);
    const [tenant, person] = [randomUUID(), randomUUID()];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = queue.run(tenant, person, () => held);
    const second = queue.run(tenant, person, () => Promise.resolve('second'));
    await expect(queue.run(tenant, person, () => Promise.resolve('third'))).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    // Someone else is not turned away.
    await expect(queue.run(tenant, randomUUID(), () => Promise.resolve('other'))).resolves.toBe(
      'other',
    );
    release();
    await first;
    await expect(second).resolves.toBe('second');
    await expect(queue.run(tenant, person, () => Promise.resolve('again'))).resolves.toBe('again');
  });
});
