/**
 * At most `size` refreshes of this process hold (or wait for) a connection's refresh lock at
 * once; the rest queue here, in order. Each lock holds a pooled Postgres connection while the
 * refresh itself needs others (the embedded secrets store, the connection's row), so the slots
 * stay below the pool's size: refreshes of many connections at once cannot take the whole pool
 * and wait for each other.
 */
export class RefreshSlots {
  private free: number;
  private readonly queue: (() => void)[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next !== undefined) next();
      else this.free += 1;
    }
  }
}
