import { sql, type Kysely } from '@heroagent/db';

/**
 * Two functions that cut an action's Postgres round trips (issue 15):
 *
 * - `admission_reads(…)` returns, as one JSON object, everything an admission decides on: the
 *   task's standing and grant, the pause, the person's role, the tenant's policy, the counts, and
 *   the id of the action the task's idempotency key already names. It is VOLATILE, so each of its
 *   queries takes a fresh snapshot: called in the statement that takes the admission locks, after
 *   them, it sees everything committed before the locks were granted (a plain query in that
 *   statement would read the statement's snapshot, taken before it waited for them). The statuses
 *   that count and that spend come from the caller, which owns those lists.
 * - `finish_action(…)` moves an action from one status to its outcome and writes the audit event
 *   of that step to the outbox, as one statement (one transaction when called alone), only if the
 *   action was still in the `from` status; it answers whether it moved it.
 *
 * Both run as their caller (SECURITY INVOKER): row-level security applies to every row they touch.
 * `finish_action` sets `app.tenant_id` itself, for its own transaction. A missing argument is
 * refused with SQLSTATE 22004 (null value not allowed) before anything is read or written.
 *
 * Frozen: written out here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against Kysely<any>
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = sql.id(rows[0]!.schema);
  await sql`
    create function admission_reads(
      tenant uuid, person uuid, task uuid, capability uuid, idempotency_key text,
      action_type text, currency text, hour_ago timestamptz, day_ago timestamptz,
      today timestamptz, excluding uuid, counted text[], spending text[]
    ) returns jsonb
    language plpgsql volatile
    set search_path = ${schema}, pg_temp
    as $$
    declare
      answer jsonb;
    begin
      if tenant is null or person is null or task is null or capability is null
        or action_type is null or hour_ago is null or day_ago is null or today is null
        or counted is null or spending is null then
        raise exception 'admission_reads: only idempotency_key, currency and excluding may be null'
          using errcode = '22004';
      end if;
      select jsonb_build_object(
        'earlier_id', (select a.id from actions a
          where a.task_id = task and a.idempotency_key = admission_reads.idempotency_key),
        'task_status', t.status,
        'task_expires_at', t.expires_at,
        'granted_actions', t.actions,
        'granted_limits', t.limits,
        'granted_connection_id', t.connection_id,
        'agents_paused', (select c.agents_paused from tenant_controls c where c.tenant_id = tenant),
        'role', (select m.role from memberships m where m.tenant_id = tenant and m.user_id = person),
        'policy_text', (select p.text from tenant_policies p where p.tenant_id = tenant
          order by p.version desc limit 1),
        'last_hour', n.last_hour,
        'last_day', n.last_day,
        'same_last_hour', n.same_last_hour,
        'task_actions', n.task_actions,
        'task_spent', n.task_spent,
        'spent_today', n.spent_today)
      into answer
      from (
        select
          count(*) filter (where a.user_id = person and a.created_at > hour_ago) as last_hour,
          count(*) filter (where a.user_id = person and a.created_at > day_ago) as last_day,
          count(*) filter (where a.user_id = person and a.type = action_type
            and a.created_at > hour_ago) as same_last_hour,
          count(*) filter (where a.task_id = task) as task_actions,
          sum(a.amount_minor) filter (where a.task_id = task
            and a.currency = coalesce(admission_reads.currency, '')
            and a.status = any(spending)) as task_spent,
          sum(a.amount_minor) filter (where a.user_id = person
            and a.currency = coalesce(admission_reads.currency, '')
            and a.created_at >= today and a.status = any(spending)) as spent_today
        from actions a
        where a.tenant_id = tenant and a.status = any(counted)
          and (a.created_at > day_ago or a.task_id = task)
          and (excluding is null or a.id <> excluding)
      ) n
      left join tasks t on t.id = task and t.capability_id = capability;
      return answer;
    end
    $$`.execute(db);
  await sql`
    create function finish_action(
      tenant uuid, action_id uuid, from_status text, to_status text, result jsonb,
      undo_state jsonb, error jsonb, event_id uuid, envelope jsonb, at timestamptz
    ) returns boolean
    language plpgsql volatile
    set search_path = ${schema}, pg_temp
    as $$
    begin
      if tenant is null or action_id is null or from_status is null or to_status is null
        or event_id is null or envelope is null or at is null then
        raise exception 'finish_action: only result, undo_state and error may be null'
          using errcode = '22004';
      end if;
      perform set_config('app.tenant_id', tenant::text, true);
      update actions set
        status = to_status,
        result = finish_action.result,
        undo_state = finish_action.undo_state,
        error = finish_action.error,
        audit_event_id = event_id,
        updated_at = at,
        completed_at = at
      where id = action_id and status = from_status;
      if not found then
        return false;
      end if;
      insert into audit_outbox (id, tenant_id, envelope) values (event_id, tenant, envelope);
      return true;
    end
    $$`.execute(db);
}
