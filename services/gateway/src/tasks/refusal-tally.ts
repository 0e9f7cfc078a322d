import { tenantIdSchema, type CapabilityClaims, type ContractError } from '@heroagent/contracts';
import type { Logger } from '@heroagent/telemetry';
import type { AuditRecorder } from '../audit/audit-recorder.js';

/** How many distinct refusals one window keeps apart; beyond that they are only counted. */
const MAX_KEYS = 10_000;

interface Entry {
  readonly name: 'capability.refused' | 'action.refused';
  readonly tenantId: string;
  readonly code: ContractError['code'];
  readonly reason: string;
  readonly requestedAction: string;
  readonly taskId: string | undefined;
  readonly userId: string | undefined;
  readonly capabilityId: string | null;
  /** The agent's reason for the first of them (an action refused under a genuine capability). */
  readonly rationale?: string;
  /** Whether the tenant exists (only an existing tenant's record is written). */
  readonly recorded: Promise<boolean>;
  /** Refusals after the first, in this window. */
  repeats: number;
  readonly firstAt: Date;
  lastAt: Date;
}

const uuid = (value: unknown) =>
  typeof value === 'string' && /^[0-9a-f-]{36}$/i.test(value) ? value : undefined;

/**
 * Refused capabilities (and actions refused under a genuine one), recorded without letting a
 * flood of them flood the record. The first
 * refusal of a kind in a window — per tenant and code, and per capability when it is genuine
 * (a forged one names whatever it likes) — is recorded at once against the tenant it names, if
 * that tenant exists; repeats are only counted, and recorded as one event each when the window
 * closes (`flush`, every minute, and at shutdown). However many arrive, a window writes at most
 * one row per kind and one lookup of each tenant, and logs a kind once.
 */
export class RefusalTally {
  private window = new Map<string, Entry>();
  private overflow = 0;
  private unattributed = 0;

  constructor(
    private readonly tenantExists: (tenantId: string) => Promise<boolean>,
    private readonly audit: AuditRecorder,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Notes one refusal; records it if it is the first of its kind in this window. */
  async note(refusal: ContractError, claimed: unknown, action: string): Promise<void> {
    const fields = (typeof claimed === 'object' && claimed !== null ? claimed : {}) as Record<
      string,
      unknown
    >;
    const tenant = tenantIdSchema.safeParse(fields.tenantId);
    if (!tenant.success) {
      this.unattributed += 1;
      return;
    }
    // Past the signature check every code but CAPABILITY_INVALID: the capability is genuine.
    const genuine = refusal.code !== 'CAPABILITY_INVALID';
    const capabilityId = uuid(fields.id) ?? null;
    const key = `${tenant.data}|${refusal.code}|${genuine ? (capabilityId ?? '') : '*'}`;
    await this.count(key, (now) => ({
      name: 'capability.refused',
      tenantId: tenant.data,
      code: refusal.code,
      reason: refusal.message,
      requestedAction: action.slice(0, 100),
      taskId: uuid(fields.taskId),
      userId: uuid(fields.userId),
      capabilityId,
      recorded: this.tenantExists(tenant.data).catch(() => false),
      repeats: 0,
      firstAt: now,
      lastAt: now,
    }));
  }

  /**
   * Notes one action refused under a genuine, live capability (not granted, over a limit, the
   * person no longer a member): the first of a kind — per capability, code and action — recorded
   * at once with the agent's rationale, repeats counted.
   */
  async noteAction(
    refusal: ContractError,
    claims: CapabilityClaims,
    action: string,
    rationale: string,
  ): Promise<void> {
    const requestedAction = action.slice(0, 100);
    const key = `${claims.tenantId}|action|${refusal.code}|${claims.id}|${requestedAction}`;
    await this.count(key, (now) => ({
      name: 'action.refused',
      tenantId: claims.tenantId,
      code: refusal.code,
      reason: refusal.message,
      requestedAction,
      taskId: claims.taskId,
      userId: claims.userId,
      capabilityId: claims.id,
      rationale,
      recorded: Promise.resolve(true),
      repeats: 0,
      firstAt: now,
      lastAt: now,
    }));
  }

  /** Counts a refusal of a kind; the first of its window is logged and recorded. */
  private async count(key: string, first: (now: Date) => Entry): Promise<void> {
    const now = this.now();
    const seen = this.window.get(key);
    if (seen !== undefined) {
      seen.repeats += 1;
      seen.lastAt = now;
      return;
    }
    if (this.window.size >= MAX_KEYS) {
      this.overflow += 1;
      return;
    }
    const entry = first(now);
    this.window.set(key, entry);
    this.logger.warn(
      { code: entry.code, action: entry.requestedAction, tenantId: entry.tenantId },
      entry.name === 'action.refused' ? 'action refused' : 'capability refused',
    );
    if (await entry.recorded) await this.record(entry, undefined);
  }

  /** Closes the window: one event per kind that repeated; answers how many were written. */
  async flush(): Promise<number> {
    const closing = this.window;
    this.window = new Map();
    let written = 0;
    for (const entry of closing.values()) {
      if (entry.repeats === 0 || !(await entry.recorded)) continue;
      await this.record(entry, {
        attempts: entry.repeats,
        from: entry.firstAt.toISOString(),
        until: entry.lastAt.toISOString(),
      });
      written += 1;
    }
    if (this.overflow + this.unattributed > 0) {
      this.logger.warn(
        { overflow: this.overflow, unattributed: this.unattributed },
        'refusals counted without a record (too many kinds, or naming no tenant)',
      );
      this.overflow = 0;
      this.unattributed = 0;
    }
    return written;
  }

  private async record(
    entry: Entry,
    repeated: { attempts: number; from: string; until: string } | undefined,
  ): Promise<void> {
    try {
      await this.audit.record({
        tenantId: entry.tenantId,
        name: entry.name,
        actor: { type: 'agent', id: entry.taskId ?? 'unknown' },
        outcome: 'denied',
        ...(entry.userId === undefined ? {} : { userId: entry.userId }),
        ...(entry.taskId === undefined ? {} : { taskId: entry.taskId }),
        ...(entry.rationale === undefined ? {} : { rationale: entry.rationale }),
        data: {
          code: entry.code,
          requestedAction: entry.requestedAction,
          capabilityId: entry.capabilityId,
          attempts: repeated?.attempts ?? 1,
          ...(repeated === undefined ? {} : { from: repeated.from, until: repeated.until }),
        },
        // A refusal's message may name what was refused (the addresses a task may not write to).
        personal: { reason: entry.reason },
      });
    } catch (error) {
      this.logger.error({ err: String(error) }, 'could not record a refused capability');
    }
  }
}
