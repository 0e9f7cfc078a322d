import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { href } from '../router.js';
import { usePeople } from '../people.js';
import { useSession } from '../session.js';
import { ErrorNote, Json, Loading, Notice, Page, Time, useAction, useLoad } from '../ui.js';
import type { ActivityPage, ActivityRecord } from './records-types.js';

interface Filters {
  userId: string;
  action: string;
  outcome: string;
  taskId: string;
  from: string;
  to: string;
  q: string;
}

const EMPTY: Filters = { userId: '', action: '', outcome: '', taskId: '', from: '', to: '', q: '' };

const iso = (local: string) => (local === '' ? undefined : new Date(local).toISOString());

/** Every action and event: who, what, when, the outcome, the agent's rationale, the policy's decision. */
export function Activity() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [pages, setPages] = useState<ActivityRecord[][]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const first = useLoad(async () => {
    const page = await api<ActivityPage>(
      'GET',
      `/v1/activity${query({ ...filters, from: iso(filters.from), to: iso(filters.to), limit: 50 })}`,
    );
    setPages([page.records]);
    setCursor(page.nextCursor ?? undefined);
    return page;
  }, [filters]);
  const more = useAction();
  const records = pages.flat();
  const session = useSession();
  const who = usePeople(`you (${session.user.email})`);
  const field = (name: keyof Filters, label: string, type: 'text' | 'datetime-local' = 'text') => {
    const common = {
      id: `filter-${name}`,
      value: draft[name],
      onInput: (event: { currentTarget: HTMLInputElement }) =>
        setDraft({ ...draft, [name]: event.currentTarget.value }),
    };
    return (
      <div>
        <label for={`filter-${name}`}>{label}</label>
        {type === 'text' ? (
          <input type="text" {...common} />
        ) : (
          <input type="datetime-local" {...common} />
        )}
      </div>
    );
  };
  return (
    <Page
      title="Activity"
      intro="Everything your agents did and why, newest first: signed, chained, and exportable."
    >
      <form
        class="filters card"
        aria-label="Filter the activity"
        onSubmit={(event) => {
          event.preventDefault();
          setFilters(draft);
        }}
      >
        {field('q', 'Search')}
        {field('action', 'Action (e.g. gmail.messages.send)')}
        <div>
          <label for="filter-outcome">Outcome</label>
          <select
            id="filter-outcome"
            value={draft.outcome}
            onChange={(e) => setDraft({ ...draft, outcome: e.currentTarget.value })}
          >
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="denied">Denied</option>
            <option value="pending">Pending</option>
          </select>
        </div>
        {field('userId', 'Person (user id)')}
        {field('taskId', 'Task id')}
        {field('from', 'From', 'datetime-local')}
        {field('to', 'To', 'datetime-local')}
        <div>
          <button type="submit">Apply</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorNote error={first.error ?? more.error} />
      {first.data === undefined && first.error === undefined ? (
        <Loading what="activity" />
      ) : records.length === 0 ? (
        <p>No activity matches.</p>
      ) : (
        <>
          <table>
            <caption class="visually-hidden">Activity, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Who</th>
                <th scope="col">Outcome</th>
                <th scope="col">Why</th>
                <th scope="col">Decision</th>
                <th scope="col">
                  <span class="visually-hidden">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {records.map((record) => (
                <ActivityRow key={record.eventId} record={record} who={who} />
              ))}
            </tbody>
          </table>
          {cursor === undefined ? (
            <p class="muted">That is all.</p>
          ) : (
            <button
              type="button"
              disabled={more.busy}
              onClick={() =>
                void more.run(async () => {
                  const page = await api<ActivityPage>(
                    'GET',
                    `/v1/activity${query({ ...filters, from: iso(filters.from), to: iso(filters.to), limit: 50, cursor })}`,
                  );
                  setPages([...pages, page.records]);
                  setCursor(page.nextCursor ?? undefined);
                  return `${page.records.length} more.`;
                })
              }
            >
              Load more
            </button>
          )}
        </>
      )}
    </Page>
  );
}

function ActivityRow({ record, who }: { record: ActivityRecord; who: (userId: string) => string }) {
  const session = useSession();
  const undo = useAction();
  const [open, setOpen] = useState(false);
  const data = record.data as { class?: string };
  const undoable =
    record.outcome === 'success' &&
    record.actionId !== null &&
    record.action !== null &&
    data.class === 'reversible' &&
    !record.name.startsWith('action.undo') &&
    session.tenant.role !== 'auditor';
  return (
    <>
      <tr>
        <td>
          <Time at={record.occurredAt} />
        </td>
        <td>
          <code>{record.action ?? record.name}</code>
          {record.action === null ? null : <div class="muted">{record.name}</div>}
          {record.taskId === null ? null : (
            <div>
              <a href={href('tasks', record.taskId)}>task</a>
            </div>
          )}
        </td>
        <td>
          {record.actor.type === 'agent'
            ? `agent for ${who(record.userId ?? record.actor.id)}`
            : record.actor.type === 'user'
              ? who(record.actor.id)
              : record.actor.id}
        </td>
        <td>{record.outcome}</td>
        <td>{record.rationale ?? ''}</td>
        <td>
          {record.policy === null ? '' : `${record.policy.effect} (${record.policy.policyId})`}
          {record.approval === null ? null : (
            <div class="muted">
              approved by {(record.approval.approvedBy ?? []).join(', ') || 'nobody yet'}
            </div>
          )}
        </td>
        <td>
          <button
            type="button"
            class="secondary"
            aria-expanded={open}
            onClick={() => setOpen(!open)}
          >
            {open ? 'Hide' : 'Details'}
          </button>
          {undoable ? (
            <button
              type="button"
              disabled={undo.busy}
              onClick={() =>
                void undo.run(async () => {
                  const answer = await api<{ status?: string }>(
                    'POST',
                    `/v1/actions/${record.actionId}/undo`,
                    {},
                  );
                  return `Undone: ${record.action ?? 'the action'} was taken back (${answer.status ?? 'done'}); the undo is itself recorded.`;
                })
              }
            >
              Undo
            </button>
          ) : null}
        </td>
      </tr>
      {open || undo.error !== undefined || undo.notice !== undefined ? (
        <tr>
          <td colSpan={7}>
            <ErrorNote error={undo.error} />
            <Notice text={undo.notice} />
            {open ? (
              <Json value={record} label={`The full record of event ${record.eventId}`} />
            ) : null}
          </td>
        </tr>
      ) : null}
    </>
  );
}
