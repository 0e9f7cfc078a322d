import { randomUUID } from 'node:crypto';
import { sql, useTenant, withSettings, type Kysely, type Selectable } from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import type { GatewayDatabase } from '../store-tables.js';

export type InvitationRow = Omit<Selectable<GatewayDatabase['invitations']>, 'token_hash'>;

const COLUMNS = [
  'id',
  'tenant_id',
  'email',
  'role',
  'invited_by',
  'created_at',
  'expires_at',
  'accepted_at',
  'accepted_by',
  'revoked_at',
] as const;

/** Invitations: visible to their tenant, and to whoever holds the token. */
export class InvitationsRepository {
  constructor(private readonly db: Kysely<GatewayDatabase>) {}

  async create(invitation: {
    tenantId: string;
    email: string;
    role: InvitationRow['role'];
    tokenHash: Buffer;
    invitedBy: string;
    expiresAt: Date;
    within: (row: InvitationRow) => InTransaction;
  }): Promise<InvitationRow> {
    return withSettings(this.db, { 'app.tenant_id': invitation.tenantId }, async (trx) => {
      const row = await trx
        .insertInto('invitations')
        .values({
          id: randomUUID(),
          tenant_id: invitation.tenantId,
          email: invitation.email,
          role: invitation.role,
          token_hash: invitation.tokenHash,
          invited_by: invitation.invitedBy,
          expires_at: invitation.expiresAt,
        })
        .returning(COLUMNS)
        .executeTakeFirstOrThrow();
      await invitation.within(row)(trx);
      return row;
    });
  }

  /** A pending invitation of the tenant to this email, if any. */
  async pendingFor(tenantId: string, email: string, now: Date): Promise<InvitationRow | undefined> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx
        .selectFrom('invitations')
        .select(COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where(sql`lower(email)`, '=', email.toLowerCase())
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst(),
    );
  }

  async list(tenantId: string): Promise<InvitationRow[]> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx
        .selectFrom('invitations')
        .select(COLUMNS)
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at', 'desc')
        .limit(500)
        .execute(),
    );
  }

  /** Withdraws a pending invitation; false when the tenant has no such pending one. */
  async revoke(tenantId: string, id: string, now: Date, within: InTransaction): Promise<boolean> {
    return withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const result = await trx
        .updateTable('invitations')
        .set({ revoked_at: now })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await within(trx);
      return true;
    });
  }

  /** The pending invitation a token names, if any (to check it before creating a person). */
  async find(tokenHash: Buffer, now: Date): Promise<InvitationRow | undefined> {
    return withSettings(this.db, { 'app.invitation_hash': tokenHash.toString('hex') }, (trx) =>
      trx
        .selectFrom('invitations')
        .select(COLUMNS)
        .where('token_hash', '=', tokenHash)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst(),
    );
  }

  /**
   * Accepts the invitation a token names, once: `admit` checks it is for this person and returns
   * false to refuse. Membership and acceptance commit together. Undefined when the token names no
   * pending invitation (unknown, used, withdrawn or expired).
   */
  async accept(
    tokenHash: Buffer,
    userId: string,
    now: Date,
    admit: (invitation: InvitationRow) => boolean,
    within?: (invitation: InvitationRow) => InTransaction,
  ): Promise<{ invitation: InvitationRow; admitted: boolean } | undefined> {
    return withSettings(
      this.db,
      { 'app.invitation_hash': tokenHash.toString('hex'), 'app.user_id': userId },
      async (trx) => {
        const invitation = await trx
          .selectFrom('invitations')
          .select(COLUMNS)
          .where('token_hash', '=', tokenHash)
          .where('accepted_at', 'is', null)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now)
          .forUpdate()
          .executeTakeFirst();
        if (invitation === undefined) return undefined;
        if (!admit(invitation)) return { invitation, admitted: false };
        await useTenant(trx, invitation.tenant_id);
        await trx
          .insertInto('memberships')
          .values({ tenant_id: invitation.tenant_id, user_id: userId, role: invitation.role })
          .onConflict((conflict) => conflict.columns(['tenant_id', 'user_id']).doNothing())
          .execute();
        await trx
          .updateTable('invitations')
          .set({ accepted_at: now, accepted_by: userId })
          .where('id', '=', invitation.id)
          .execute();
        await within?.(invitation)(trx);
        return { invitation, admitted: true };
      },
    );
  }
}
