import type { Logger } from '@heroagent/telemetry';
import { taskEventSchema, type TaskEvent } from '@heroagent/contracts';
import type { Gateway } from '../gateway/gateway-link.js';

/** A task event before it is numbered and stamped. */
export type TimelineEntry = TaskEvent extends infer E
  ? E extends TaskEvent
    ? Omit<E, 'seq' | 'at'>
    : never
  : never;

const BATCH = 50;
const ATTEMPTS = 5;

/**
 * A task's timeline as the agent reports it to the gateway: numbered 1, 2, 3… (so a report sent
 * twice is stored once), sent in order, in batches, retried when the gateway cannot be reached. If
 * the gateway answers that the task no longer runs (stopped, expired, paused), `onNotRunning` is
 * called: the agent stops at once rather than at its next action.
 */
export class Timeline {
  private seq = 0;
  private readonly pending: TaskEvent[] = [];
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly gateway: Gateway,
    private readonly capability: string,
    private readonly logger: Logger,
    private readonly onNotRunning: () => void,
    private readonly now: () => Date = () => new Date(),
    private readonly retryDelayMs = 250,
  ) {}

  emit(entry: TimelineEntry): void {
    // An event the contract would refuse is dropped alone, not with the batch it would travel in.
    const event = taskEventSchema.safeParse({
      ...entry,
      seq: this.seq + 1,
      at: this.now().toISOString(),
    });
    if (!event.success) {
      this.logger.warn({ kind: entry.kind }, 'a progress event outside the contract was dropped');
      return;
    }
    this.seq += 1;
    this.pending.push(event.data);
    this.sending = this.sending.then(() => this.send());
  }

  /** Resolves when everything emitted so far was sent (or given up on). */
  flush(): Promise<void> {
    return this.sending;
  }

  private async send(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, BATCH);
      const answer = await this.deliver(batch);
      this.pending.splice(0, batch.length);
      if (answer !== undefined && !answer.running) this.onNotRunning();
    }
  }

  private async deliver(batch: TaskEvent[]): Promise<{ running: boolean } | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.gateway.report(this.capability, batch);
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'UNKNOWN';
        const transient = code === 'UNAVAILABLE' || code === 'TIMEOUT';
        if (!transient || attempt === ATTEMPTS) {
          this.logger.warn(
            { code, events: batch.length, firstSeq: batch[0]?.seq },
            'the gateway did not take a progress report; it is dropped',
          );
          return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * attempt));
      }
    }
  }
}
