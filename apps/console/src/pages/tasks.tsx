import type {
  listMyConnections,
  listTaskEvents,
  listTasks,
  previewTask,
  RouteResponse,
  startTask,
  TaskEvent,
} from '@heroagent/contracts';
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { href } from '../router.js';
import { canManage, canOversee, useSession } from '../session.js';
import { ErrorNote, Loading, Notice, Page, Time, useAction, useLoad } from '../ui.js';

type TaskView = RouteResponse<typeof listTasks>['tasks'][number];

/** Every action, as an owner or admin chooses them for a broad capability. */
const ACTION_CHOICES = [
  ['gmail.messages.search', 'Search mail'],
  ['gmail.messages.read', 'Read mail'],
  ['gmail.drafts.create', 'Write drafts'],
  ['gmail.messages.send', 'Send mail'],
  ['gmail.messages.label', 'Label mail'],
  ['gmail.messages.archive', 'Archive mail'],
  ['gmail.messages.trash', 'Trash mail'],
  ['calendar.freebusy', 'See free/busy'],
  ['calendar.events.list', 'List events'],
  ['calendar.events.create', 'Create events'],
  ['calendar.events.update', 'Change events'],
  ['calendar.events.delete', 'Delete events'],
  ['purchase.create', 'Buy'],
] as const;

const LABELS: Readonly<Record<string, string>> = Object.fromEntries(ACTION_CHOICES);

/** The request as it settles: what the preview is asked about, not every keystroke. */
function useSettled(value: string, ms: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function Tasks() {
  const session = useSession();
  const all = canOversee(session);
  const tasks = useLoad(
    () => api<RouteResponse<typeof listTasks>>('GET', `/v1/tasks${all ? '?userId=all' : ''}`),
    [all],
    3000,
  );
  return (
    <Page title="Tasks" intro="What people asked their agents to do, and how it went.">
      {session.tenant.role === 'auditor' ? (
        <p class="muted">Auditors read; they do not start tasks.</p>
      ) : (
        <StartTask onStarted={tasks.reload} />
      )}
      <h2>Recent tasks</h2>
      <ErrorNote error={tasks.error} />
      {tasks.data === undefined ? (
        <Loading what="tasks" />
      ) : tasks.data.tasks.length === 0 ? (
        <p>No tasks yet.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Tasks, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Agent</th>
              <th scope="col">Started</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {tasks.data.tasks.map((task) => (
              <tr key={task.id}>
                <td>
                  <a href={href('tasks', task.id)}>{task.title}</a>
                </td>
                <td>{task.status}</td>
                <td>{task.agentStatus ?? '—'}</td>
                <td>
                  <Time at={task.createdAt} />
                </td>
                <td>
                  <Time at={task.expiresAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

function StartTask(props: { onStarted: () => void }) {
  const session = useSession();
  const connections = useLoad(
    () => api<RouteResponse<typeof listMyConnections>>('GET', '/v1/connections'),
    [],
  );
  const [request, setRequest] = useState('');
  const [broad, setBroad] = useState(false);
  const [actions, setActions] = useState<string[]>([]);
  const [connectionId, setConnectionId] = useState('');
  const action = useAction();
  const asked = useSettled(request.trim(), 300);
  // What the words ask for, from the gateway, before anything starts.
  const preview = useLoad(
    () =>
      asked === ''
        ? Promise.resolve(undefined)
        : api<RouteResponse<typeof previewTask>>('POST', '/v1/tasks/preview', { request: asked }),
    [asked],
  );
  const working = (connections.data?.connections ?? []).filter((c) => c.health === 'working');
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const started = await api<RouteResponse<typeof startTask>>('POST', '/v1/tasks', {
        title: request.slice(0, 120),
        request,
        ...(broad ? { scope: 'broad', actions } : {}),
        ...(connectionId === '' ? {} : { connectionId }),
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      });
      props.onStarted();
      window.location.hash = href('tasks', started.task.id);
      return 'The task started.';
    });
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="start-task">
      <h2 id="start-task">Ask your agent</h2>
      <label for="task-request">What should it do?</label>
      <textarea
        id="task-request"
        required
        maxLength={4000}
        rows={3}
        value={request}
        onInput={(event) => setRequest(event.currentTarget.value)}
      />
      <section aria-labelledby="task-may" aria-live="polite">
        <h3 id="task-may">It may</h3>
        {asked === '' ? (
          <p class="muted">Describe the task to see what it may do: only what your words ask.</p>
        ) : preview.data === undefined ? (
          <Loading what="what it may do" />
        ) : (
          <ul data-testid="task-may">
            {preview.data.actions.map((derived) => (
              <li key={derived.action}>
                {LABELS[derived.action] ?? derived.action}{' '}
                <span class="muted">— {derived.because}</span>
              </li>
            ))}
          </ul>
        )}
        <ErrorNote error={preview.error} />
      </section>
      {canManage(session) ? (
        <fieldset>
          <legend>Broad capability</legend>
          <label class="check">
            <input
              type="checkbox"
              checked={broad}
              onChange={(event) => setBroad(event.currentTarget.checked)}
            />
            Let it do more than its words ask (recorded)
          </label>
          {broad
            ? ACTION_CHOICES.map(([type, label]) => (
                <label key={type} class="check">
                  <input
                    type="checkbox"
                    checked={actions.includes(type)}
                    onChange={(event) =>
                      setActions(
                        event.currentTarget.checked
                          ? [...actions, type]
                          : actions.filter((chosen) => chosen !== type),
                      )
                    }
                  />
                  {label}
                </label>
              ))
            : null}
        </fieldset>
      ) : null}
      <label for="task-connection">Through the account</label>
      <select
        id="task-connection"
        value={connectionId}
        onChange={(event) => setConnectionId(event.currentTarget.value)}
      >
        <option value="">None (purchases only)</option>
        {working.map((connection) => (
          <option key={connection.id} value={connection.id}>
            {connection.account}
          </option>
        ))}
      </select>
      <button type="submit" disabled={action.busy || (broad && actions.length === 0)}>
        Start
      </button>
      <ErrorNote error={action.error} />
      <Notice text={action.notice} />
    </form>
  );
}

const TERMINAL = new Set(['completed', 'failed', 'stopped']);

/** One task: what was asked, its timeline (live while the agent works), and a stop button. */
export function TaskDetail(props: { id: string }) {
  const session = useSession();
  const timeline = useLoad(
    () =>
      api<RouteResponse<typeof listTaskEvents>>(
        'GET',
        `/v1/tasks/${encodeURIComponent(props.id)}/events${query({ limit: 500 })}`,
      ),
    [props.id],
    1000,
  );
  const tasks = useLoad(
    () =>
      api<RouteResponse<typeof listTasks>>(
        'GET',
        `/v1/tasks${canOversee(session) ? '?userId=all' : ''}`,
      ),
    [props.id],
  );
  const task: TaskView | undefined = tasks.data?.tasks.find(
    (candidate) => candidate.id === props.id,
  );
  const stop = useAction();
  const live =
    timeline.data !== undefined && !TERMINAL.has(timeline.data.agentStatus ?? 'completed');
  return (
    <Page title={task?.title ?? 'Task'}>
      <p>
        <a href={href('tasks')}>All tasks</a>
      </p>
      <ErrorNote error={timeline.error ?? tasks.error} />
      {task === undefined ? null : (
        <dl class="facts">
          <dt>Asked</dt>
          <dd>{task.request ?? '(driven by an API client)'}</dd>
          <dt>May</dt>
          <dd>
            {task.actions.join(', ')}{' '}
            <span class="muted">
              (
              {task.scope === 'derived'
                ? 'what its words ask'
                : task.scope === 'broad'
                  ? 'a broad capability an owner or admin chose'
                  : 'listed by the API client driving it'}
              )
            </span>
          </dd>
          <dt>Task</dt>
          <dd>{task.status}</dd>
          <dt>Agent</dt>
          <dd>
            <span data-testid="agent-status">
              {timeline.data?.agentStatus ?? task.agentStatus ?? '—'}
            </span>
            {live ? ' (live)' : ''}
          </dd>
        </dl>
      )}
      {task?.status === 'running' && session.tenant.role !== 'auditor' ? (
        <button
          type="button"
          disabled={stop.busy}
          onClick={() =>
            void stop.run(async () => {
              await api('POST', `/v1/tasks/${encodeURIComponent(props.id)}/stop`, {
                reason: 'stopped from the console',
              });
              tasks.reload();
              return 'The task was stopped; its capability is refused from now on.';
            })
          }
        >
          Stop this task
        </button>
      ) : null}
      <ErrorNote error={stop.error} />
      <Notice text={stop.notice} />
      <h2>Timeline</h2>
      {timeline.data === undefined ? (
        <Loading what="the timeline" />
      ) : (
        <ol class="timeline" aria-live="polite">
          {timeline.data.events.map((event) => (
            <li key={event.seq}>
              <Time at={event.at} /> — <TimelineEntry event={event} />
            </li>
          ))}
        </ol>
      )}
    </Page>
  );
}

function TimelineEntry({ event }: { event: TaskEvent }) {
  switch (event.kind) {
    case 'started':
      return (
        <span>
          Started on {event.model.model} (
          {event.model.location === 'local' ? 'a local model' : 'a cloud model'})
        </span>
      );
    case 'note':
      return <span>The agent: “{event.text}”</span>;
    case 'action.requested':
      return (
        <span>
          Asked for <code>{event.action}</code>: “{event.rationale}”
        </span>
      );
    case 'action.outcome':
      return (
        <span>
          <code>{event.action}</code>: {event.status.replace('_', ' ')}
          {event.code === undefined
            ? ''
            : ` (${event.code}${event.message === undefined ? '' : `: ${event.message}`})`}
        </span>
      );
    case 'model.used':
      return (
        <span>
          {event.model.model} ({event.model.location}) was called {event.calls} times; it saw{' '}
          {event.saw.join(', ') || 'nothing personal'}
          {event.redacted.length > 0 ? `; hidden from it: ${event.redacted.join(', ')}` : ''}
        </span>
      );
    case 'finished':
      return <span>Finished: {event.summary}</span>;
    case 'stopped':
      return (
        <span>
          Stopped ({event.code}): {event.message}
        </span>
      );
    case 'failed':
      return (
        <span>
          Failed ({event.code}): {event.message}
        </span>
      );
    default: {
      const unknown: never = event;
      return <span>{JSON.stringify(unknown)}</span>;
    }
  }
}
