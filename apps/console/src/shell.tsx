import { api } from './api.js';
import { href, useRoute } from './router.js';
import { useSession } from './session.js';
import { Activity } from './pages/activity.js';
import { Agents } from './pages/agents.js';
import { Approvals } from './pages/approvals.js';
import { Connections } from './pages/connections.js';
import { Exports } from './pages/exports.js';
import { Integrity } from './pages/integrity.js';
import { Policies } from './pages/policies.js';
import { TaskDetail, Tasks } from './pages/tasks.js';
import { YourData } from './pages/your-data.js';

const PAGES = [
  ['activity', 'Activity'],
  ['tasks', 'Tasks'],
  ['approvals', 'Approvals'],
  ['connections', 'Connections'],
  ['policies', 'Policies'],
  ['integrity', 'Integrity'],
  ['exports', 'Exports and SIEM'],
  ['agents', 'Agents'],
  ['your-data', 'Your data'],
] as const;

/** The frame of every page: who is signed in where, the navigation, and the page. */
export function Shell() {
  const session = useSession();
  const [page, id] = useRoute();
  const signOut = async () => {
    await api('POST', '/v1/session/sign-out');
    window.location.assign('/');
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">HeroAgent</span>
        <span>
          {session.tenant.name} · <span class="role">{session.tenant.role}</span> ·{' '}
          {session.user.email}
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <div class="layout">
        <nav aria-label="Console">
          <ul>
            {PAGES.map(([key, label]) => (
              <li key={key}>
                <a href={href(key)} aria-current={page === key ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {renderPage(page ?? 'activity', id)}
        </main>
      </div>
    </>
  );
}

function renderPage(page: string, id: string | undefined) {
  switch (page) {
    case 'activity':
      return <Activity />;
    case 'tasks':
      return id === undefined ? <Tasks /> : <TaskDetail id={decodeURIComponent(id)} />;
    case 'approvals':
      return <Approvals />;
    case 'connections':
      return <Connections />;
    case 'policies':
      return <Policies />;
    case 'integrity':
      return <Integrity />;
    case 'exports':
      return <Exports />;
    case 'agents':
      return <Agents />;
    case 'your-data':
      return <YourData />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no such page. <a href={href('activity')}>Go to the activity log.</a>
          </p>
        </section>
      );
  }
}
