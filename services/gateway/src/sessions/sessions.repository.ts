import { randomUUID } from 'node:crypto';
import { sql, withSettings, type Kysely, type Selectable } from '@heroagent/db';
import type { GatewayDatabase } from '../store-tables.js';

type SessionRow = Selectable<GatewayDatabase['sessions']>;
type Role = GatewayDatabase['memberships']['role'];

/** A live session with the person behind it and, if any, the tenant they act in. */
export interface ResolvedSession {
  readonly id: string;
  readonly userId: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly emailVerified: boolean;
  readonly tenant: { readonly id: string; readonly name: string; readonly role: Role } | null;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly idleExpiresAt: Date;
  readonly expiresAt: Date;
}

const SESSION_COLUMNS = [
  'id',
  'user_id',
  'tenant_id',
  'created_at',
  'last_seen_at',
  'idle_expires_at',
  'expires_at',
  'user_agent',
  'ip',
] as const;

/** Sessions in Postgres, reachable by the hash of their secret or by their owner. */
export class SessionsRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** The sweeper's own role: sees of other people's sessions only expired ones, to delete. */
    private readonly sweeper: Kysely<GatewayDatabase>,
  ) {}

  async create(session: {
    tokenHash: Buffer;
    userId: string;
    tenantId: string | null;
    idleExpiresAt: Date;
    expiresAt: Date;
    userAgent: string | null;
    ip: string | null;
    now: Date;
  }): Promise<string> {
    const id = randomUUID();
    await withSettings(this.db, { 'app.user_id': session.userId }, (trx) =>
      trx
        .insertInto('sessions')
        .values({
          id,
          token_hash: session.tokenHash,
          user_id: session.userId,
          tenant_id: session.tenantId,
          created_at: session.now,
          last_seen_at: session.now,
          idle_expires_at: session.idleExpiresAt,
          expires_at: session.expiresAt,
          user_agent: session.userAgent,
          ip: session.ip,
        })
        .execute(),
    );
    return id;
  }

  /**
   * The live session whose secret hashes to `tokenHash`, with its person and current tenant; its
   * idle expiry is pushed to `idleExpiresAt` when it was last seen more than `touchAfterMs` ago.
   */
  async resolve(
    tokenHash: Buffer,
    now: Date,
    touch: { idleExpiresAt: Date; touchAfterMs: number },
  ): Promise<ResolvedSession | undefined> {
    return withSettings(this.db, { 'app.session_hash': tokenHash.toString('hex') }, async (trx) => {
      const session = await trx
        .selectFrom('sessions')
        .select(SESSION_COLUMNS)
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now)
        .executeTakeFirst();
      if (session === undefined) return undefined;
      await sql`select set_config('app.user_id', ${session.user_id}, true)`.execute(trx);
      const user = await trx
        .selectFrom('users')
        .select(['email', 'display_name', 'email_verified'])
        .where('id', '=', session.user_id)
        .executeTakeFirst();
      if (user === undefined) return undefined;
      const tenant =
        session.tenant_id === null
          ? undefined
          : await trx
              .selectFrom('memberships as m')
              .innerJoin('tenants as t', 't.id', 'm.tenant_id')
              .select(['t.id', 't.name', 'm.role'])
              .where('m.tenant_id', '=', session.tenant_id)
              .where('m.user_id', '=', session.user_id)
              .executeTakeFirst();
      let { last_seen_at: lastSeenAt, idle_expires_at: idleExpiresAt } = session;
      if (now.getTime() - lastSeenAt.getTime() > touch.touchAfterMs) {
        lastSeenAt = now;
        idleExpiresAt = new Date(
          Math.min(touch.idleExpiresAt.getTime(), session.expires_at.getTime()),
        );
        await trx
          .updateTable('sessions')
          .set({ last_seen_at: lastSeenAt, idle_expires_at: idleExpiresAt })
          .where('id', '=', session.id)
          .execute();
      }
      return {
        id: session.id,
        userId: session.user_id,
        email: user.email,
        displayName: user.display_name,
        emailVerified: user.email_verified,
        tenant: tenant ?? null,
        createdAt: session.created_at,
        lastSeenAt,
        idleExpiresAt,
        expiresAt: session.expires_at,
      };
    });
  }

  /** Deletes the session whose secret hashes to `tokenHash` (sign-out, rotation). */
  async deleteByToken(tokenHash: Buffer): Promise<void> {
    await withSettings(this.db, { 'app.session_hash': tokenHash.toString('hex') }, (trx) =>
      trx.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute(),
    );
  }

  async setTenant(userId: string, sessionId: string, tenantId: string | null): Promise<void> {
    await withSettings(this.db, { 'app.user_id': userId }, (trx) =>
      trx
        .updateTable('sessions')
        .set({ tenant_id: tenantId })
        .where('id', '=', sessionId)
        .where('user_id', '=', userId)
        .execute(),
    );
  }

  async listForUser(userId: string, now: Date): Promise<SessionRow[]> {
    return withSettings(this.db, { 'app.user_id': userId }, (trx) =>
      trx
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .execute(),
    );
  }

  /** Ends one of a person's sessions; false if they have no such session. */
  async deleteForUser(userId: string, sessionId: string): Promise<boolean> {
    const result = await withSettings(this.db, { 'app.user_id': userId }, (trx) =>
      trx
        .deleteFrom('sessions')
        .where('id', '=', sessionId)
        .where('user_id', '=', userId)
        .executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  async deleteAllForUser(userId: string): Promise<void> {
    await withSettings(this.db, { 'app.user_id': userId }, (trx) =>
      trx.deleteFrom('sessions').where('user_id', '=', userId).execute(),
    );
  }

  /** Removes expired sessions (visible to deletion only). */
  async deleteExpired(now: Date): Promise<number> {
    const result = await this.sweeper
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<', now), eb('idle_expires_at', '<', now)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
