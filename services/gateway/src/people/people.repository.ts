import {
  sql,
  useTenant,
  withSettings,
  withTenant,
  type Kysely,
  type Selectable,
  type Transaction,
  type TransactionLocks,
} from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import type { GatewayDatabase } from '../store-tables.js';

export type Role = GatewayDatabase['memberships']['role'];
type UserRow = Selectable<GatewayDatabase['users']>;

/** A person as an identity provider vouched for them at sign-in. */
export interface VerifiedIdentity {
  readonly provider: 'google' | 'oidc';
  readonly issuer: string;
  readonly subject: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly displayName: string | null;
}

export interface Membership {
  readonly tenantId: string;
  readonly name: string;
  readonly role: Role;
  readonly joinedAt: Date;
}

export interface Member {
  readonly userId: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly role: Role;
  readonly joinedAt: Date;
}

const USER_COLUMNS = [
  'id',
  'email',
  'email_verified',
  'display_name',
  'created_at',
  'last_sign_in_at',
] as const;

/** People, how they sign in, tenants and memberships. */
export class PeopleRepository {
  constructor(private readonly db: Kysely<GatewayDatabase>) {}

  /** The person an identity belongs to, if it signed in before; their profile is refreshed. */
  async signInKnown(identity: VerifiedIdentity, now: Date): Promise<string | undefined> {
    return withSettings(
      this.db,
      { 'app.identity_issuer': identity.issuer, 'app.identity_subject': identity.subject },
      async (trx) => {
        const found = await trx
          .selectFrom('identities')
          .select('user_id')
          .where('issuer', '=', identity.issuer)
          .where('subject', '=', identity.subject)
          .executeTakeFirst();
        if (found === undefined) return undefined;
        await sql`select set_config('app.user_id', ${found.user_id}, true)`.execute(trx);
        await trx
          .updateTable('identities')
          .set({ last_used_at: now, email: identity.email })
          .where('issuer', '=', identity.issuer)
          .where('subject', '=', identity.subject)
          .execute();
        await trx
          .updateTable('users')
          .set({
            email: identity.email,
            email_verified: identity.emailVerified,
            display_name: identity.displayName,
            last_sign_in_at: now,
          })
          .where('id', '=', found.user_id)
          .execute();
        return found.user_id;
      },
    );
  }

  /** A new person with their first identity, and optionally a tenant they own. */
  async createPerson(
    userId: string,
    identity: VerifiedIdentity,
    now: Date,
    ownTenant?: { id: string; name: string },
    within?: InTransaction,
  ): Promise<void> {
    await withSettings(
      this.db,
      {
        'app.user_id': userId,
        'app.tenant_id': ownTenant?.id,
        'app.identity_issuer': identity.issuer,
        'app.identity_subject': identity.subject,
      },
      async (trx) => {
        await trx
          .insertInto('users')
          .values({
            id: userId,
            email: identity.email,
            email_verified: identity.emailVerified,
            display_name: identity.displayName,
            last_sign_in_at: now,
          })
          .execute();
        await trx
          .insertInto('identities')
          .values({
            issuer: identity.issuer,
            subject: identity.subject,
            user_id: userId,
            provider: identity.provider,
            email: identity.email,
          })
          .execute();
        if (ownTenant !== undefined) {
          await trx.insertInto('tenants').values(ownTenant).execute();
          await trx
            .insertInto('memberships')
            .values({ tenant_id: ownTenant.id, user_id: userId, role: 'owner' })
            .execute();
        }
        await within?.(trx);
      },
    );
  }

  async user(userId: string): Promise<UserRow | undefined> {
    return withSettings(this.db, { 'app.user_id': userId }, (trx) =>
      trx.selectFrom('users').select(USER_COLUMNS).where('id', '=', userId).executeTakeFirst(),
    );
  }

  async identitiesOf(userId: string) {
    return withSettings(this.db, { 'app.user_id': userId }, (trx) =>
      trx
        .selectFrom('identities')
        .select(['provider', 'issuer', 'subject', 'email', 'created_at', 'last_used_at'])
        .where('user_id', '=', userId)
        .execute(),
    );
  }

  async membershipsOf(userId: string): Promise<Membership[]> {
    const rows = await withSettings(this.db, { 'app.user_id': userId }, (trx) =>
      trx
        .selectFrom('memberships as m')
        .innerJoin('tenants as t', 't.id', 'm.tenant_id')
        .select(['t.id', 't.name', 'm.role', 'm.created_at'])
        .where('m.user_id', '=', userId)
        .orderBy('m.created_at')
        .execute(),
    );
    return rows.map((row) => ({
      tenantId: row.id,
      name: row.name,
      role: row.role,
      joinedAt: row.created_at,
    }));
  }

  async createTenant(
    tenantId: string,
    name: string,
    ownerId: string,
    within?: InTransaction,
  ): Promise<void> {
    await withSettings(
      this.db,
      { 'app.tenant_id': tenantId, 'app.user_id': ownerId },
      async (trx) => {
        await trx.insertInto('tenants').values({ id: tenantId, name }).execute();
        await trx
          .insertInto('memberships')
          .values({ tenant_id: tenantId, user_id: ownerId, role: 'owner' })
          .execute();
        await within?.(trx);
      },
    );
  }

  async tenantName(tenantId: string): Promise<string | undefined> {
    const row = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx.selectFrom('tenants').select('name').where('id', '=', tenantId).executeTakeFirst(),
    );
    return row?.name;
  }

  async members(tenantId: string): Promise<Member[]> {
    const rows = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx
        .selectFrom('memberships as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['u.id', 'u.email', 'u.display_name', 'm.role', 'm.created_at'])
        .where('m.tenant_id', '=', tenantId)
        .orderBy('m.created_at')
        .execute(),
    );
    return rows.map((row) => ({
      userId: row.id,
      email: row.email,
      displayName: row.display_name,
      role: row.role,
      joinedAt: row.created_at,
    }));
  }

  /** A person's role in a tenant, or undefined if they are not (or no longer) a member. */
  async roleOf(tenantId: string, userId: string): Promise<Role | undefined> {
    const row = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
      trx
        .selectFrom('memberships')
        .select('role')
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
        .executeTakeFirst(),
    );
    return row?.role;
  }

  /**
   * Changes or removes a membership in one transaction that locks the tenant's memberships, so
   * two concurrent changes cannot leave it without an owner. `decide` sees the member's role and
   * the number of owners, and returns the new role, `remove`, or throws to refuse. `locks` are
   * taken first (a removal takes the person's admission locks).
   */
  async updateMembership(
    tenantId: string,
    userId: string,
    decide: (current: Role, owners: number) => Role | 'remove',
    within?: (change: { before: Role; after: Role | 'removed' }) => InTransaction | undefined,
    locks: TransactionLocks = {},
  ): Promise<{ before: Role; after: Role | 'removed' } | undefined> {
    return withTenant(
      this.db,
      tenantId,
      async (trx) => {
        const roles = await trx
          .selectFrom('memberships')
          .select(['user_id', 'role'])
          .where('tenant_id', '=', tenantId)
          .forUpdate()
          .execute();
        const current = roles.find((row) => row.user_id === userId);
        if (current === undefined) return undefined;
        const owners = roles.filter((row) => row.role === 'owner').length;
        const next = decide(current.role, owners);
        if (next === 'remove') {
          await trx
            .deleteFrom('memberships')
            .where('tenant_id', '=', tenantId)
            .where('user_id', '=', userId)
            .execute();
          const change = { before: current.role, after: 'removed' as const };
          await within?.(change)?.(trx);
          return change;
        }
        if (next !== current.role) {
          await trx
            .updateTable('memberships')
            .set({ role: next })
            .where('tenant_id', '=', tenantId)
            .where('user_id', '=', userId)
            .execute();
        }
        const change = { before: current.role, after: next };
        await within?.(change)?.(trx);
        return change;
      },
      locks,
    );
  }

  /** Deletes a tenant; memberships and invitations go with it, sessions in it lose it. */
  async deleteTenant(tenantId: string, within?: InTransaction): Promise<void> {
    await withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      await within?.(trx);
      await trx.deleteFrom('tenants').where('id', '=', tenantId).execute();
    });
  }

  /**
   * In the caller's transaction: a tenant's invitations that name a person (sent to their address,
   * or accepted by them), deleted with their account.
   */
  async deleteInvitationsOf(
    trx: Transaction<GatewayDatabase>,
    tenantId: string,
    person: { readonly userId: string; readonly email: string },
  ): Promise<void> {
    await useTenant(trx, tenantId);
    await trx
      .deleteFrom('invitations')
      .where('tenant_id', '=', tenantId)
      .where((eb) =>
        eb.or([
          eb('accepted_by', '=', person.userId),
          eb(eb.fn('lower', ['email']), '=', person.email.toLowerCase()),
        ]),
      )
      .execute();
  }

  /** Deletes a person; identities, memberships and sessions go with them. */
  async deletePerson(userId: string, within?: InTransaction): Promise<void> {
    await withSettings(this.db, { 'app.user_id': userId }, async (trx) => {
      await trx.deleteFrom('users').where('id', '=', userId).execute();
      await within?.(trx);
    });
  }
}
