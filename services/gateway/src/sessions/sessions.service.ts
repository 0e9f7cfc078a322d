import type { ResolvedSession, SessionsRepository } from './sessions.repository.js';
import { hashSecret, isBearerSecret, newBearerSecret } from './secrets.js';

/** Where a session was started from, as shown to its owner in their list of sessions. */
export interface SessionOrigin {
  readonly userAgent: string | null;
  readonly ip: string | null;
}

/** A session secret just issued: it goes into the cookie and is never stored. */
export interface IssuedSession {
  readonly secret: string;
  readonly id: string;
  readonly expiresAt: Date;
}

/**
 * Sessions: a fresh secret at every sign-in (the one presented before is deleted, so a planted
 * cookie never becomes a signed-in one), an idle timeout pushed forward at most once a minute,
 * and an absolute timeout that nothing extends.
 */
export class SessionsService {
  private static readonly TOUCH_AFTER_MS = 60_000;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly options: { idleTimeoutMs: number; absoluteTimeoutMs: number },
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(
    userId: string,
    tenantId: string | null,
    origin: SessionOrigin,
    previousSecret: string | undefined,
  ): Promise<IssuedSession> {
    if (isBearerSecret(previousSecret))
      await this.sessions.deleteByToken(hashSecret(previousSecret));
    const now = this.now().getTime();
    const secret = newBearerSecret();
    const expiresAt = new Date(now + this.options.absoluteTimeoutMs);
    const id = await this.sessions.create({
      tokenHash: hashSecret(secret),
      userId,
      tenantId,
      idleExpiresAt: new Date(Math.min(now + this.options.idleTimeoutMs, expiresAt.getTime())),
      expiresAt,
      userAgent: origin.userAgent?.slice(0, 512) ?? null,
      ip: origin.ip?.slice(0, 64) ?? null,
      now: new Date(now),
    });
    return { secret, id, expiresAt };
  }

  /** The live session a cookie names, or undefined (absent, malformed, unknown, expired). */
  async resolve(secret: string | undefined): Promise<ResolvedSession | undefined> {
    if (!isBearerSecret(secret)) return undefined;
    const now = this.now();
    return this.sessions.resolve(hashSecret(secret), now, {
      idleExpiresAt: new Date(now.getTime() + this.options.idleTimeoutMs),
      touchAfterMs: SessionsService.TOUCH_AFTER_MS,
    });
  }

  async end(secret: string): Promise<void> {
    if (isBearerSecret(secret)) await this.sessions.deleteByToken(hashSecret(secret));
  }

  switchTenant(session: ResolvedSession, tenantId: string | null): Promise<void> {
    return this.sessions.setTenant(session.userId, session.id, tenantId);
  }

  list(userId: string) {
    return this.sessions.listForUser(userId, this.now());
  }

  endOne(userId: string, sessionId: string): Promise<boolean> {
    return this.sessions.deleteForUser(userId, sessionId);
  }

  endAll(userId: string): Promise<void> {
    return this.sessions.deleteAllForUser(userId);
  }

  purgeExpired(): Promise<number> {
    return this.sessions.deleteExpired(this.now());
  }
}
