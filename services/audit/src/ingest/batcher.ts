/**
 * Gathers items into batches: a batch is ready when it holds `size` items, or `lingerMs` after its
 * first item arrived, whichever comes first. Under load batches fill; when quiet, an item waits
 * at most `lingerMs`.
 */
export class Batcher<T> {
  private items: T[] = [];
  private firstAt = 0;
  private waiter: ((batch: T[] | undefined) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly lingerMs: number,
  ) {}

  push(item: T): void {
    if (this.items.length === 0) this.firstAt = Date.now();
    this.items.push(item);
    if (this.items.length >= this.size) this.release();
    else if (this.waiter !== undefined && this.timer === undefined) this.armTimer();
  }

  /** The next batch; undefined once closed and drained. */
  next(): Promise<T[] | undefined> {
    if (
      this.items.length >= this.size ||
      (this.items.length > 0 && Date.now() - this.firstAt >= this.lingerMs)
    ) {
      return Promise.resolve(this.take());
    }
    if (this.closed) return Promise.resolve(this.items.length > 0 ? this.take() : undefined);
    return new Promise((resolve) => {
      this.waiter = resolve;
      if (this.items.length > 0) this.armTimer();
    });
  }

  /** No more items: the pending ones go out as a last batch. */
  close(): void {
    this.closed = true;
    this.release();
  }

  private armTimer(): void {
    const wait = Math.max(0, this.lingerMs - (Date.now() - this.firstAt));
    this.timer = setTimeout(() => this.release(), wait);
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    waiter(this.items.length > 0 ? this.take() : this.closed ? undefined : []);
  }

  private take(): T[] {
    const batch = this.items.slice(0, this.size);
    this.items = this.items.slice(this.size);
    if (this.items.length > 0) this.firstAt = Date.now();
    return batch;
  }
}
