import { withSettings, type Kysely, type Selectable, type Transaction } from '@heroagent/db';
import type { InTransaction } from '../audit/audit-recorder.js';
import { ownerKey, personOwner, type PersonalKeys } from '../privacy/personal-keys.js';
import { ERASED_TEXT, openRow, sealValues } from '../privacy/sealed-columns.js';
import type { ActionStatus, GatewayDatabase } from '../store-tables.js';

export type ApprovalRow = Selectable<GatewayDatabase['approvals']>;

/** One person's decision on an approval. */
export interface ApprovalDecision {
  readonly userId: string;
  readonly decision: 'approve' | 'deny';
  readonly at: string;
  /** Their note, in their own words: sealed with their key inside the sealed decisions. */
  readonly note: string;
}

/** The context of one approver's note on one approval. */
function noteContext(approvalId: string, userId: string): string {
  return `gateway.approvals.note:${approvalId}:${userId}`;
}

/** Approvals waiting for people, and what they decided. */
export class ApprovalsRepository {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** The sweeper's own role: expires approvals across tenants, and nothing else. */
    private readonly sweeper: Kysely<GatewayDatabase>,
    /** Opens what the action waiting for approval was given and why. */
    private readonly keys: PersonalKeys,
  ) {}

  /** Inside the transaction that records the action it is for. */
  async insert(
    trx: Transaction<GatewayDatabase>,
    approval: {
      id: string;
      tenantId: string;
      actionId: string;
      userId: string;
      required: number;
      reason: string;
      expiresAt: Date;
    },
  ): Promise<void> {
    const sealer = await this.keys.forPerson(approval.tenantId, approval.userId);
    await trx
      .insertInto('approvals')
      .values(
        sealValues(sealer, 'approvals', approval.id, {
          id: approval.id,
          tenant_id: approval.tenantId,
          action_id: approval.actionId,
          user_id: approval.userId,
          status: 'pending' as const,
          required: approval.required,
          reason: approval.reason,
          decisions: JSON.stringify([]),
          expires_at: approval.expiresAt,
        }),
      )
      .execute();
  }

  async get(tenantId: string, id: string): Promise<ApprovalRow | undefined> {
    return this.openOne(
      await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
        trx.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst(),
      ),
    );
  }

  async forAction(tenantId: string, actionId: string): Promise<ApprovalRow | undefined> {
    return this.openOne(
      await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) =>
        trx
          .selectFrom('approvals')
          .selectAll()
          .where('action_id', '=', actionId)
          .executeTakeFirst(),
      ),
    );
  }

  /** An approval as stored, its reason opened with its person's key, notes with their writers'. */
  private async openOne<R extends ApprovalRow>(row: R | undefined): Promise<R | undefined> {
    if (row === undefined) return undefined;
    const sealer = await this.keys.reader(personOwner(row.tenant_id, row.user_id));
    return (await this.openNotes([openRow(sealer, 'approvals', row.id, row)]))[0];
  }

  /**
   * Approvals whose decisions are opened (with the key of the person the action is for), their
   * notes opened with each approver's own key: an approver's erasure erases their notes.
   */
  private async openNotes<R extends Pick<ApprovalRow, 'id' | 'tenant_id' | 'decisions'>>(
    rows: readonly R[],
  ): Promise<R[]> {
    const decisionsOf = (row: R) =>
      Array.isArray(row.decisions) ? (row.decisions as ApprovalDecision[]) : [];
    const writers = await this.keys.readers(
      rows.flatMap((row) =>
        decisionsOf(row)
          .filter((decision) => decision.note !== '')
          .map((decision) => personOwner(row.tenant_id, decision.userId)),
      ),
    );
    return rows.map((row) =>
      Array.isArray(row.decisions)
        ? {
            ...row,
            decisions: decisionsOf(row).map((decision) => {
              if (decision.note === '') return decision;
              const writer = writers.get(ownerKey(personOwner(row.tenant_id, decision.userId)))!;
              const note = writer.open(noteContext(row.id, decision.userId), decision.note);
              return { ...decision, note: typeof note === 'string' ? note : ERASED_TEXT };
            }),
          }
        : row,
    );
  }

  async list(tenantId: string, options: { userId?: string; pendingOnly: boolean; id?: string }) {
    const rows = await withSettings(this.db, { 'app.tenant_id': tenantId }, (trx) => {
      let query = trx
        .selectFrom('approvals as p')
        .innerJoin('actions as a', 'a.id', 'p.action_id')
        .selectAll('p')
        .select([
          'a.task_id',
          'a.type',
          'a.class',
          'a.params',
          'a.rationale',
          'a.policy',
          'a.untrusted',
        ])
        .where('p.tenant_id', '=', tenantId);
      if (options.userId !== undefined) query = query.where('p.user_id', '=', options.userId);
      if (options.pendingOnly) query = query.where('p.status', '=', 'pending');
      if (options.id !== undefined) query = query.where('p.id', '=', options.id);
      return query.orderBy('p.created_at', 'desc').limit(200).execute();
    });
    const sealers = await this.keys.readers(rows.map((row) => personOwner(tenantId, row.user_id)));
    return this.openNotes(
      rows.map((row) => {
        const sealer = sealers.get(ownerKey(personOwner(tenantId, row.user_id)))!;
        return openRow(sealer, 'approvals', row.id, openRow(sealer, 'actions', row.action_id, row));
      }),
    );
  }

  /**
   * Adds one person's decision (`decider`'s) under a lock on the approval, then lets `settle` say
   * what follows (the approval's and the action's new states, and the audit event), all in one
   * transaction. The decider's note is sealed with their own key; `settle` sees earlier notes
   * sealed, as they stay.
   */
  async decide(
    tenantId: string,
    id: string,
    decider: string,
    settle: (
      approval: ApprovalRow,
      decisions: ApprovalDecision[],
    ) => {
      decisions: ApprovalDecision[];
      status: ApprovalRow['status'];
      actionStatus?: 'approved' | 'rejected';
      within: InTransaction;
    },
    now: Date,
  ): Promise<ApprovalRow | undefined> {
    // The decider's key before the lock: a miss asks vault-proxy, never while others wait.
    const writer = await this.keys.forPerson(tenantId, decider);
    const decided = await withSettings(this.db, { 'app.tenant_id': tenantId }, async (trx) => {
      const stored = await trx
        .selectFrom('approvals')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (stored === undefined) return undefined;
      const sealer = await this.keys.forPerson(stored.tenant_id, stored.user_id);
      const approval = openRow(sealer, 'approvals', stored.id, stored);
      // Earlier notes stay sealed as they are (what decides needs none of them).
      const sealedNotes = new Map(
        (approval.decisions as ApprovalDecision[]).map((earlier) => [earlier.userId, earlier.note]),
      );
      const outcome = settle(approval, approval.decisions as ApprovalDecision[]);
      const decisions = outcome.decisions.map((decision) => ({
        ...decision,
        note:
          sealedNotes.get(decision.userId) ??
          (decision.note === '' || decision.userId !== decider
            ? ''
            : writer.seal(noteContext(id, decider), decision.note)),
      }));
      const updated = await trx
        .updateTable('approvals')
        .set({
          ...sealValues(sealer, 'approvals', id, { decisions: JSON.stringify(decisions) }),
          status: outcome.status,
          ...(outcome.status === 'pending' ? {} : { decided_at: now }),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (outcome.actionStatus !== undefined) {
        await trx
          .updateTable('actions')
          .set({ status: outcome.actionStatus, updated_at: now })
          .where('id', '=', approval.action_id)
          .where('status', '=', 'pending_approval')
          .execute();
      }
      await outcome.within(trx);
      return updated;
    });
    return this.openOne(decided);
  }

  /**
   * Locks, in id order, the open approvals of a scope's held actions (of a task, of a person, or of
   * the whole tenant the transaction runs as): taken before those actions are touched, as
   * `decide` takes an approval before its action, so the two never wait on each other in turn.
   */
  async lockOpen(
    trx: Transaction<GatewayDatabase>,
    scope: { readonly taskId?: string; readonly userId?: string },
    held: readonly ActionStatus[],
  ): Promise<void> {
    let query = trx
      .selectFrom('approvals as p')
      .innerJoin('actions as a', 'a.id', 'p.action_id')
      .select('p.id')
      .where('p.status', 'in', ['pending', 'approved'])
      .where('a.status', 'in', [...held]);
    if (scope.taskId !== undefined) query = query.where('a.task_id', '=', scope.taskId);
    if (scope.userId !== undefined) query = query.where('a.user_id', '=', scope.userId);
    await query.orderBy('p.id').forUpdate('p').execute();
  }

  /** Cancels the undecided or approved approvals of these actions, in the caller's transaction. */
  async cancelFor(
    trx: Transaction<GatewayDatabase>,
    actionIds: readonly string[],
    now: Date,
  ): Promise<void> {
    if (actionIds.length === 0) return;
    await trx
      .updateTable('approvals')
      .set({ status: 'cancelled', decided_at: now })
      .where('action_id', 'in', actionIds)
      .where('status', 'in', ['pending', 'approved'])
      .execute();
  }

  /**
   * Expires pending approvals past their time, across tenants, with their actions; `record`
   * gives each expired one's audit event, written in the same transaction.
   */
  async expire(now: Date, record: (approval: ApprovalRow) => InTransaction): Promise<number> {
    return this.sweeper.transaction().execute(async (trx) => {
      const expired = await trx
        .updateTable('approvals')
        .set({ status: 'expired', decided_at: now })
        .where('status', '=', 'pending')
        .where('expires_at', '<=', now)
        .returningAll()
        .execute();
      for (const approval of expired) {
        await trx
          .updateTable('actions')
          .set({ status: 'expired', updated_at: now })
          .where('id', '=', approval.action_id)
          .where('status', '=', 'pending_approval')
          .execute();
        await record(approval)(trx);
      }
      return expired.length;
    });
  }
}
