// Seeds one tenant's audit record straight into audit's tables (as a superuser, behind the
// service's back), shaped like the gateway's events: what the activity query reads, at a size no
// publish-and-ingest run could reach in a bench's time. Hashes and signatures are placeholders:
// the query never checks them.
import { sql, type Kysely } from '@heroagent/db';

/** Action types, as the catalog names them. */
export const SEEDED_ACTIONS = [
  'gmail.messages.search',
  'gmail.messages.read',
  'gmail.drafts.create',
  'gmail.messages.send',
  'gmail.messages.label',
  'gmail.messages.archive',
  'gmail.messages.trash',
  'calendar.events.list',
  'calendar.freebusy',
  'calendar.events.create',
  'calendar.events.update',
  'calendar.events.delete',
  'purchase.create',
] as const;

/** People in the tenant; user `i` is `00000000-0000-4000-8000-<i, 12 digits>`. */
export const SEEDED_USERS = 200;
export const seededUser = (index: number) =>
  `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;

/** One in this many action events carries the rare phrase below in its rationale. */
export const RARE_EVERY = 10_000;
export const RARE_PHRASE = 'auditor follow-up';

const RATIONALES = [
  'The person asked to find the quarterly invoice from the supplier.',
  'Looking for free slots with Bob next week, as asked.',
  'Drafting the reply the person dictated.',
  'Sending the confirmation the person approved.',
  'Labelling newsletters so the inbox stays readable.',
  'Archiving threads older than a month, as the person asked.',
  'Creating the meeting invitation for the team sync.',
  'Moving the dentist appointment to Thursday afternoon.',
  'Cancelling the duplicate event created earlier.',
  'Buying the train ticket within the spending limit.',
  'Checking free/busy before proposing a time.',
  'Reading the latest message from the landlord to summarise it.',
  'Searching for the flight booking reference.',
  'Trashing the spam the person pointed out.',
  'Listing tomorrow’s events for the morning summary.',
  'Replying to the recruiter that the person is not interested.',
];

/** A version-4-shaped UUID derived from a SQL expression (zod, like audit, insists on the shape). */
const v4 = (seed: string) =>
  sql.raw(`overlay(overlay(md5(${seed}) placing '4' from 13) placing '8' from 17)::uuid`);

const events = (count: number) => `${count.toLocaleString('en-US')} events`;

/**
 * Inserts `count` events for `tenantId` (seq 1..count, one year of occurrences ending now); audit's
 * own trigger fills `event_search`. Secondary indexes are dropped during the load and rebuilt
 * after it exactly as defined.
 */
export async function seedActivity(
  admin: Kysely<unknown>,
  tenantId: string,
  count: number,
  progress: (message: string) => void,
): Promise<void> {
  const { rows: indexes } = await sql<{ name: string; definition: string }>`
    select i.indexname as name, i.indexdef as definition from pg_indexes i
    where i.schemaname = 'audit' and i.tablename in ('events', 'event_search')
      and not exists (select from pg_constraint c where c.conname = i.indexname)`.execute(admin);
  for (const index of indexes) await sql.raw(`drop index audit.${index.name}`).execute(admin);
  const chunk = 100_000;
  for (let from = 1; from <= count; from += chunk) {
    await insertChunk(admin, tenantId, from, Math.min(count, from + chunk - 1), count);
    progress(`  inserted ${events(Math.min(count, from + chunk - 1))}`);
  }
  await sql`set maintenance_work_mem = '512MB'`.execute(admin);
  for (const index of indexes) {
    const started = Date.now();
    await sql.raw(index.definition).execute(admin);
    progress(`  rebuilt ${index.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  await sql`vacuum analyze audit.events`.execute(admin);
  await sql`vacuum analyze audit.event_search`.execute(admin);
}

async function insertChunk(
  admin: Kysely<unknown>,
  tenantId: string,
  from: number,
  to: number,
  count: number,
): Promise<void> {
  // h(n) are independent pseudo-random integers per seq; actions are 80% of the events, with
  // outcomes success 85%, failure 7%, denied 5%, pending 3%.
  await sql`
    with base as (
      select g.seq,
        (hashint8(g.seq) & 2147483647) as h1,
        (hashint8(g.seq + 1000000000) & 2147483647) as h2,
        (hashint8(g.seq + 2000000000) & 2147483647) as h3,
        (hashint8(g.seq + 3000000000) & 2147483647) as h4,
        (hashint8(g.seq + 4000000000) & 2147483647) as h5,
        now() - interval '365 days' + (g.seq::float8 / ${sql.lit(count)}) * interval '365 days' as occurred_at
      from generate_series(${from}::bigint, ${to}::bigint) as g(seq)
    ), shaped as (
      select seq, occurred_at, h4,
        ${v4("'event' || seq")} as event_id,
        ('00000000-0000-4000-8000-' || lpad((h2 % ${sql.lit(SEEDED_USERS)})::text, 12, '0'))::uuid as user_id,
        ${v4("'task' || (seq / 20)")} as task_id,
        h1 % 100 < 80 as is_action,
        (${sql.val([...SEEDED_ACTIONS])}::text[])[1 + h3 % ${sql.lit(SEEDED_ACTIONS.length)}] as action,
        case when h4 % 100 < 85 then 'success' when h4 % 100 < 92 then 'failure'
             when h4 % 100 < 97 then 'denied' else 'pending' end as outcome,
        (${sql.val(RATIONALES)}::text[])[1 + h5 % ${sql.lit(RATIONALES.length)}]
          || case when h5 / 16 % ${sql.lit(RARE_EVERY)} = 0 then ${` (${RARE_PHRASE})`} else '' end as rationale,
        (array['session.started', 'task.started', 'task.stopped', 'agent.model_used',
               'member.joined', 'connection.revoked'])[1 + h3 % 6] as other_name
      from base
    ), events as (
      select *,
        case when not is_action then other_name
             when outcome = 'success' then 'action.executed'
             when outcome = 'failure' then 'action.failed'
             when outcome = 'denied' then 'action.refused'
             else 'action.scheduled' end as name
      from shaped
    )
    insert into audit.events (tenant_id, seq, event_id, prev_hash, hash, leaf_hash, envelope,
      occurred_at, received_at, name, source, user_id, task_id, action, outcome)
    select ${tenantId}::uuid, seq, event_id,
      sha256(int8send(seq - 1)), sha256(int8send(seq)), sha256(int8send(-seq)),
      jsonb_build_object(
        'event', jsonb_strip_nulls(jsonb_build_object(
          'id', event_id, 'tenantId', ${tenantId}::text,
          'occurredAt', to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'name', name, 'source', 'gateway',
          'actor', case when is_action then jsonb_build_object('type', 'agent', 'id', task_id)
                        else jsonb_build_object('type', 'user', 'id', user_id) end,
          'userId', user_id, 'taskId', task_id,
          'action', case when is_action then action end,
          'outcome', case when is_action then outcome else 'success' end,
          'rationale', case when is_action then rationale end,
          'policy', case when is_action then jsonb_build_object(
            'effect', case when outcome = 'denied' then 'deny'
                           when outcome = 'pending' then 'require_approval' else 'allow' end,
            'policyId', case when outcome = 'denied' then 'tenant.no-purchases-over-limit'
                             else 'default.reads-and-reversible' end,
            'reason', case when outcome = 'denied' then 'the amount is over the tenant limit'
                           else 'reads and reversible writes are allowed' end) end,
          'traceId', md5('trace' || seq),
          'data', case when is_action then jsonb_build_object(
            'actionId', ${v4("'action' || seq")}, 'capabilityId', ${v4("'cap' || (seq / 20)")},
            'class', 'reversible', 'connectionId', ${v4("'conn' || (h4 % 300)")})
            else '{}'::jsonb end)),
        'signature', jsonb_build_object('alg', 'Ed25519', 'kid', 'ed25519:benchbenchbench1',
          'sig', translate(rtrim(encode(sha512(int8send(seq)), 'base64'), '='),
                           '+/' || chr(10), '-_'))
      )::text,
      occurred_at, occurred_at + interval '40 milliseconds', name, 'gateway', user_id, task_id,
      case when is_action then action end, case when is_action then outcome else 'success' end
    from events`.execute(admin);
}
