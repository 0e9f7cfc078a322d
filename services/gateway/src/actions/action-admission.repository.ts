import {
  sql,
  withTenant,
  withTenantReading,
  type Kysely,
  type RawBuilder,
  type Transaction,
} from '@heroagent/db';
import { capabilityLimitsSchema } from '@heroagent/contracts';
import type { Grant } from '../policy/admission.js';
import type { GatewayDatabase } from '../store-tables.js';
import { standingOf, type Standing } from '../tasks/tasks.repository.js';
import { admissionLocks, PersonQueue } from './admission-locks.js';
import { ERASED, personOwner, type PersonalKeys } from '../privacy/personal-keys.js';
import { openRow } from '../privacy/sealed-columns.js';
import {
  COUNTED,
  countWindows,
  SPENDING,
  toActionCounts,
  type ActionCounts,
  type CountsRow,
} from './action-counts.js';
import { openActions, type ActionRow } from './actions.repository.js';

/** Everything the decision on an action reads, as of one moment of one tenant. */
export interface AdmissionReads {
  /** Whether the capability's task is running, unexpired, in a tenant whose agents are not paused. */
  readonly standing: Standing;
  /** The person's role, or undefined if they are not (or no longer) a member. */
  readonly role: GatewayDatabase['memberships']['role'] | undefined;
  /** The other actions that count (never the one being decided). */
  readonly counts: ActionCounts;
  /** The text of the tenant's current policy ('' when it has none). */
  readonly policyText: string;
  /** What the task's capability grants, as stored with the task (undefined: no such task). */
  readonly grant: Grant | undefined;
}

/** Who asks, for what: a new request, before anything is written. */
export interface AdmissionScope {
  readonly tenantId: string;
  readonly userId: string;
  readonly taskId: string;
  readonly capabilityId: string;
  readonly idempotencyKey: string;
  readonly type: string;
  readonly currency: string | undefined;
  readonly now: Date;
}

type Trx = Transaction<GatewayDatabase>;

/**
 * The transactions in which actions are decided: each holds the person's admission lock (see
 * admission-locks.ts) from its first statement to its commit, so what it reads — the task, the
 * pause, the membership, the counts — stays true until what it decides is written. In this
 * process a person's transactions also queue before taking a connection (`PersonQueue`).
 */
export class ActionAdmissionRepository {
  // An agent's requests queue per person, at most this many waiting; what a person or the sender
  // moves on (approved actions, due sends) queues apart, never behind an agent's flood.
  private readonly requests = new PersonQueue(64);
  private readonly resumptions = new PersonQueue();

  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    /** Opens what an earlier action holds; fetched before the locks are taken. */
    private readonly keys: PersonalKeys,
  ) {}

  /**
   * A new request: `decide` gets the action its idempotency key already names (a retry), if any,
   * and the reads, and writes what it decides in the same transaction.
   */
  async admit<T>(
    scope: AdmissionScope,
    decide: (trx: Trx, reads: AdmissionReads, earlier: ActionRow | undefined) => Promise<T>,
  ): Promise<T> {
    return this.requests.run(scope.tenantId, scope.userId, async () => {
      // The person's key, before any lock: a miss asks vault-proxy, never while others wait.
      await this.keys.forPerson(scope.tenantId, scope.userId);
      // One round trip: the locks, then (after them) the reads and the idempotency key's action.
      return withTenantReading(
        this.db,
        scope.tenantId,
        admissionLocks(scope.tenantId, scope.userId),
        readsOf(scope),
        async (trx, read) => {
          const earlier =
            read?.earlier_id == null ? undefined : await this.earlier(trx, read.earlier_id);
          return decide(trx, await this.opened(read!, scope), earlier);
        },
      );
    });
  }

  /** The action a retry's idempotency key names (a retry: its row is read only then). */
  private async earlier(trx: Trx, id: string): Promise<ActionRow> {
    const stored = await trx
      .selectFrom('actions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return (await openActions(this.keys, [stored]))[0]!;
  }

  /**
   * A held action going on (run after its approval, or a send leaving the outbox): `decide` gets
   * the action as it is now (locked), the reads, with the action itself not counted, and whether
   * a person approved it; or undefined if it is gone.
   */
  async resume<T>(
    held: { readonly tenantId: string; readonly userId: string; readonly actionId: string },
    now: Date,
    decide: (
      trx: Trx,
      current:
        | { readonly row: ActionRow; readonly reads: AdmissionReads; readonly approved: boolean }
        | undefined,
    ) => Promise<T>,
  ): Promise<T> {
    return this.resumptions.run(held.tenantId, held.userId, async () => {
      await this.keys.forPerson(held.tenantId, held.userId);
      return withTenant(
        this.db,
        held.tenantId,
        async (trx) => {
          const stored = await trx
            .selectFrom('actions')
            .selectAll()
            .where('id', '=', held.actionId)
            .forUpdate()
            .executeTakeFirst();
          if (stored === undefined || stored.user_id !== held.userId) return decide(trx, undefined);
          const row = (await openActions(this.keys, [stored]))[0]!;
          const ask = {
            tenantId: row.tenant_id,
            userId: row.user_id,
            taskId: row.task_id,
            capabilityId: row.capability_id,
            type: row.type,
            currency: row.currency ?? undefined,
            now,
            excluding: row.id,
          };
          const { rows } = await sql<{ read: ReadsRow }>`select ${readsOf(ask)} as read`.execute(
            trx,
          );
          const reads = await this.opened(rows[0]!.read, ask);
          // A person approved it (a send approved, then held in its window): that approval stands.
          const approval = await trx
            .selectFrom('approvals')
            .select('status')
            .where('action_id', '=', row.id)
            .executeTakeFirst();
          return decide(trx, { row, reads, approved: approval?.status === 'approved' });
        },
        admissionLocks(held.tenantId, held.userId),
      );
    });
  }

  /** The reads as `admission_reads` answers them, the task's limits opened. */
  private async opened(row: ReadsRow, ask: ReadsAsk): Promise<AdmissionReads> {
    const { tenantId, userId, taskId } = ask;
    // The person's limits (the addresses they allow) are sealed with their key, warmed above.
    // Once it is erased the task grants nothing (it was stopped with the erasure).
    const sealer = await this.keys.reader(personOwner(tenantId, userId));
    const limits =
      row.granted_actions === null
        ? undefined
        : openRow(sealer, 'tasks', taskId, { limits: row.granted_limits }).limits;
    return {
      standing: standingOf(row.task_status, row.agents_paused, {
        expiresAt: row.task_expires_at === null ? null : new Date(row.task_expires_at),
        now: ask.now,
      }),
      role: row.role ?? undefined,
      counts: toActionCounts(row),
      policyText: row.policy_text ?? '',
      grant:
        row.granted_actions === null || limits === undefined || limits === ERASED
          ? undefined
          : {
              actions: row.granted_actions,
              limits: capabilityLimitsSchema.parse(limits),
              connectionId: row.granted_connection_id ?? undefined,
            },
    };
  }
}

type ReadsAsk = Omit<AdmissionScope, 'idempotencyKey'> & {
  readonly idempotencyKey?: string;
  /** An action not to count (the held one being checked again). */
  readonly excluding?: string;
};

/** What `admission_reads` answers (JSON: a time as text). */
type ReadsRow = CountsRow & {
  earlier_id: string | null;
  task_status: string | null;
  task_expires_at: string | null;
  granted_actions: string[] | null;
  granted_limits: unknown;
  granted_connection_id: string | null;
  agents_paused: boolean | null;
  role: AdmissionReads['role'] | null;
  policy_text: string | null;
};

/**
 * The call that reads, in one statement, the task's standing and grant, the pause, the role, the
 * policy, the counts and the action the idempotency key names (migration 20261206040000). It is
 * VOLATILE: called after the locks in the statement that takes them, it reads what committed
 * before they were granted.
 */
function readsOf(ask: ReadsAsk): RawBuilder<ReadsRow> {
  const { hourAgo, dayAgo, today } = countWindows(ask.now);
  return sql<ReadsRow>`admission_reads(${ask.tenantId}::uuid, ${ask.userId}::uuid,
    ${ask.taskId}::uuid, ${ask.capabilityId}::uuid, ${ask.idempotencyKey ?? null}::text,
    ${ask.type}::text, ${ask.currency ?? null}::text, ${hourAgo}::timestamptz,
    ${dayAgo}::timestamptz, ${today}::timestamptz, ${ask.excluding ?? null}::uuid,
    ${COUNTED}::text[], ${SPENDING}::text[])`;
}
