import { heroagentCounter, type Counter, type Logger } from '@heroagent/telemetry';
import type { RequestRefusal } from './reply-guard.js';

const LOG_EVERY_MS = 60_000;
const SHOWN_REPLY_CHARS = 120;

/**
 * Counts the requests a service dropped unanswered (see `refusalOf`): a tally per subject
 * and reason that the service and its tests can read, the `heroagent.nats.requests_refused`
 * OpenTelemetry counter, and a warning — at most one a minute per subject and reason, carrying how
 * many were not logged — so a caller flooding bad requests cannot flood the log too.
 */
export class RefusedRequests {
  private readonly tally = new Map<string, number>();
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();
  private readonly counter: Counter;

  constructor(
    private readonly service: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.counter = heroagentCounter(
      'heroagent.nats.requests_refused',
      'NATS requests dropped unanswered: no reply subject, or one outside the callers’ inboxes',
    );
  }

  /** Records one dropped request. */
  count(subject: string, reason: RequestRefusal, reply: string | undefined): void {
    const key = `${subject} ${reason}`;
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
    this.counter.add(1, { 'heroagent.service': this.service, subject, reason });
    const now = this.now();
    const last = this.lastLogged.get(key);
    if (last !== undefined && now - last.at < LOG_EVERY_MS) {
      last.suppressed += 1;
      return;
    }
    this.lastLogged.set(key, { at: now, suppressed: 0 });
    this.logger.warn(
      {
        code: 'NATS_REQUEST_REFUSED',
        reason,
        subject,
        reply: reply?.slice(0, SHOWN_REPLY_CHARS),
        notLoggedSinceLast: last?.suppressed ?? 0,
      },
      `dropped a request to ${subject} unanswered (${reason})`,
    );
  }

  /** How many requests were dropped, in all or for one subject (and reason). */
  total(subject?: string, reason?: RequestRefusal): number {
    let sum = 0;
    for (const [key, count] of this.tally) {
      const [keySubject, keyReason] = key.split(' ');
      if (subject !== undefined && keySubject !== subject) continue;
      if (reason !== undefined && keyReason !== reason) continue;
      sum += count;
    }
    return sum;
  }
}
