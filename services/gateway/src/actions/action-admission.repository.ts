import { sql, withTenant, type Kysely, type Transaction } from '@heroagent/db';
import { capabilityLimitsSchema } from '@heroagent/contracts';
import type { Grant } from '../policy/admission.js';
import type { GatewayDatabase } from '../store-tables.js';
import { standingOf, type Standing } from '../tasks/tasks.repository.js';
import { admissionLocks, PersonQueue } from './admission-locks.js';
import { ERASED, personOwner, type PersonalKeys } from '../privacy/personal-keys.js';
import { openRow } from '../privacy/sealed-columns.js';
import {
  countsQuery,
  openActions,
  toActionCounts,
  type ActionCounts,
  type ActionRow,
  type CountsRow,
} from './actions.repository.js';

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
      return withTenant(
        this.db,
        scope.tenantId,
        async (trx) => {
          const stored = await trx
            .selectFrom('actions')
            .selectAll()
            .where('task_id', '=', scope.taskId)
            .where('idempotency_key', '=', scope.idempotencyKey)
            .executeTakeFirst();
          const earlier =
            stored === undefined ? undefined : (await openActions(this.keys, [stored]))[0];
          return decide(trx, await this.reads(trx, scope), earlier);
        },
        admissionLocks(scope.tenantId, scope.userId),
      );
    });
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
          const reads = await this.reads(trx, {
            tenantId: row.tenant_id,
            userId: row.user_id,
            taskId: row.task_id,
            capabilityId: row.capability_id,
            type: row.type,
            currency: row.currency ?? undefined,
            now,
            excluding: row.id,
          });
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

  /** One statement: the task's standing, the role, the policy and the counts. */
  private async reads(
    trx: Trx,
    ask: Omit<AdmissionScope, 'idempotencyKey'> & { readonly excluding?: string },
  ): Promise<AdmissionReads> {
    const { tenantId, userId, taskId, capabilityId } = ask;
    const counts = countsQuery(ask);
    const result = await sql<
      CountsRow & {
        task_status: string | null;
        task_expires_at: Date | null;
        granted_actions: string[] | null;
        granted_limits: unknown;
        granted_connection_id: string | null;
        agents_paused: boolean | null;
        role: AdmissionReads['role'] | null;
        policy_text: string | null;
      }
    >`
      select
        task.status as task_status,
        task.expires_at as task_expires_at,
        task.actions as granted_actions,
        task.limits as granted_limits,
        task.connection_id as granted_connection_id,
        (select agents_paused from tenant_controls where tenant_id = ${tenantId}) as agents_paused,
        (select role from memberships where tenant_id = ${tenantId} and user_id = ${userId}) as role,
        (select text from tenant_policies where tenant_id = ${tenantId} order by version desc limit 1) as policy_text,
        counts.*
      from (${counts}) counts
      left join tasks task on task.id = ${taskId} and task.capability_id = ${capabilityId}
    `.execute(trx);
    const row = result.rows[0]!;
    // The person's limits (the addresses they allow) are sealed with their key, warmed above.
    // Once it is erased the task grants nothing (it was stopped with the erasure).
    const sealer = await this.keys.reader(personOwner(tenantId, userId));
    const limits =
      row.granted_actions === null
        ? undefined
        : openRow(sealer, 'tasks', taskId, { limits: row.granted_limits }).limits;
    return {
      standing: standingOf(row.task_status, row.agents_paused, {
        expiresAt: row.task_expires_at,
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
