import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@heroagent/telemetry';
import type { AuditRelay } from './audit/audit-relay.js';
import type { RateLimitsRepository } from './http/rate-limits/rate-limits.repository.js';
import type { RetentionRun } from './retention/apply-retention.js';
import type { SessionsService } from './sessions/sessions.service.js';
import type { FlowsRepository } from './sign-in/flows.repository.js';

const PURGE_EVERY_MS = 10 * 60_000;
const EXPIRE_APPROVALS_EVERY_MS = 15_000;
const RELEASE_SENDS_EVERY_MS = 1_000;
const APPLY_RETENTION_EVERY_MS = 60 * 60_000;
const FLUSH_REFUSALS_EVERY_MS = 60_000;
// Actions whose replica is gone are settled within this (or at once, by a repeated request).
const SETTLE_ABANDONED_EVERY_MS = 15_000;
const RECORD_RECEIPTS_EVERY_MS = 5_000;

/**
 * What runs beside the request handlers: the audit outbox relay, the expiry of approvals nobody
 * decided in time, the release of due sends, the settling of actions left running by a replica
 * that is gone (every 15 s: outcome unknown, never run again), and a purge of expired sessions, OAuth flows and
 * ended rate-limit windows (already unusable; this keeps the tables small), each tenant's retention of task history,
 * applied hourly (and at start, so frequent restarts never starve it), the record of repeated
 * capability refusals, every minute, and vault-proxy's deletion receipts turned into audit
 * events, every 5 s.
 */
export class Housekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private approvalsTimer: NodeJS.Timeout | undefined;
  private sendsTimer: NodeJS.Timeout | undefined;
  private releasing: Promise<void> | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retaining: Promise<number> | undefined;
  private refusalsTimer: NodeJS.Timeout | undefined;
  private abandonedTimer: NodeJS.Timeout | undefined;
  private settling: Promise<number> | undefined;
  private receiptsTimer: NodeJS.Timeout | undefined;
  private recording: Promise<number> | undefined;

  constructor(
    private readonly sessions: SessionsService,
    private readonly flows: FlowsRepository,
    private readonly rateLimits: RateLimitsRepository,
    readonly relay: AuditRelay,
    private readonly expireApprovals: () => Promise<number>,
    private readonly releaseSends: () => Promise<number>,
    private readonly failStale: () => Promise<number>,
    private readonly applyRetention: () => Promise<RetentionRun>,
    private readonly flushRefusals: () => Promise<number>,
    private readonly recordReceipts: () => Promise<number>,
    private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
    void this.purge();
    this.timer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.timer.unref();
    this.approvalsTimer = setInterval(() => void this.expire(), EXPIRE_APPROVALS_EVERY_MS);
    this.approvalsTimer.unref();
    this.sendsTimer = setInterval(() => void this.release(), RELEASE_SENDS_EVERY_MS);
    this.sendsTimer.unref();
    void this.retain();
    this.retentionTimer = setInterval(() => void this.retain(), APPLY_RETENTION_EVERY_MS);
    this.retentionTimer.unref();
    this.refusalsTimer = setInterval(() => void this.tallyRefusals(), FLUSH_REFUSALS_EVERY_MS);
    this.refusalsTimer.unref();
    void this.settleAbandoned();
    this.abandonedTimer = setInterval(() => void this.settleAbandoned(), SETTLE_ABANDONED_EVERY_MS);
    this.abandonedTimer.unref();
    this.receiptsTimer = setInterval(() => void this.recordRevocations(), RECORD_RECEIPTS_EVERY_MS);
    this.receiptsTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.approvalsTimer);
    clearInterval(this.sendsTimer);
    clearInterval(this.retentionTimer);
    clearInterval(this.refusalsTimer);
    clearInterval(this.abandonedTimer);
    clearInterval(this.receiptsTimer);
    await this.recording;
    await this.settling;
    await this.releasing;
    await this.retaining;
    await this.tallyRefusals();
    await this.relay.stop();
  }

  /** Records vault-proxy's deletion receipts as audit events (one run at a time); answers how many. */
  recordRevocations(): Promise<number> {
    this.recording ??= this.recordReceipts()
      .catch((error: unknown) => {
        this.logger.warn({ err: String(error) }, 'recording deletion receipts failed');
        return 0;
      })
      .finally(() => {
        this.recording = undefined;
      });
    return this.recording;
  }

  /** Releases the sends whose undo window has passed (one run at a time). */
  release(): Promise<void> {
    this.releasing ??= this.releaseSends()
      .then((sent) => {
        if (sent > 0) this.relay.nudge();
      })
      .catch((error: unknown) => this.logger.warn({ err: String(error) }, 'releasing sends failed'))
      .finally(() => {
        this.releasing = undefined;
      });
    return this.releasing;
  }

  /**
   * Deletes each tenant's finished tasks older than its retention (one run at a time); answers
   * how many were deleted.
   */
  retain(): Promise<number> {
    this.retaining ??= this.applyRetention()
      .then((run) => {
        if (run.deletedTasks > 0) {
          this.relay.nudge();
          this.logger.info(run, 'finished tasks past their retention deleted');
        }
        return run.deletedTasks;
      })
      .catch((error: unknown) => {
        this.logger.warn({ err: String(error) }, 'applying retention failed');
        return 0;
      })
      .finally(() => {
        this.retaining = undefined;
      });
    return this.retaining;
  }

  /**
   * Settles the actions left `executing` by a replica that is gone, or for longer than any call
   * may take, as failed with an unknown outcome (one run at a time); answers how many.
   */
  settleAbandoned(): Promise<number> {
    this.settling ??= this.failStale()
      .then((settled) => {
        if (settled > 0) {
          this.relay.nudge();
          this.logger.warn(
            { settled },
            'actions left running by a stopped gateway marked failed, outcome unknown',
          );
        }
        return settled;
      })
      .catch((error: unknown) => {
        this.logger.warn({ err: String(error) }, 'settling abandoned actions failed');
        return 0;
      })
      .finally(() => {
        this.settling = undefined;
      });
    return this.settling;
  }

  /** Records the capability refusals that repeated in the last window, one event per kind. */
  async tallyRefusals(): Promise<void> {
    try {
      if ((await this.flushRefusals()) > 0) this.relay.nudge();
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'recording repeated refusals failed');
    }
  }

  /** Expires approvals nobody decided in time (each recorded in audit). */
  async expire(): Promise<number> {
    try {
      const expired = await this.expireApprovals();
      if (expired > 0) {
        this.relay.nudge();
        this.logger.info({ expired }, 'approvals expired');
      }
      return expired;
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'expiring approvals failed');
      return 0;
    }
  }

  async purge(): Promise<void> {
    try {
      const sessions = await this.sessions.purgeExpired();
      const flows = await this.flows.deleteExpired(new Date());
      const windows = await this.rateLimits.purgeEnded(new Date());
      if (sessions + flows + windows > 0)
        this.logger.info(
          { sessions, flows, windows },
          'expired sessions, flows and rate-limit windows purged',
        );
    } catch (error) {
      this.logger.warn(
        { err: String(error) },
        'purging expired sessions, flows and rate-limit windows failed',
      );
    }
  }
}
