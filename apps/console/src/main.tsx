import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, useCsrfToken } from './api.js';
import { Shell } from './shell.js';
import { SignIn } from './pages/sign-in.js';
import { SessionContext, type Session } from './session.js';
import { ErrorNote, Loading } from './ui.js';
import './styles.css';

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    api<Session>('GET', '/v1/session')
      .then((value) => {
        useCsrfToken(value.csrfToken);
        setSession(value);
      })
      .catch((caught: unknown) => {
        if (caught instanceof ApiError && caught.code === 'UNAUTHENTICATED') setSession(null);
        else setError(caught);
      });
  }, []);
  if (error !== undefined) return <ErrorNote error={error} />;
  if (session === undefined) return <Loading what="your session" />;
  if (session === null) return <SignIn />;
  if (session.tenant === null) {
    return (
      <main id="main">
        <h1>No workspace yet</h1>
        <p>
          You are signed in as {session.user.email} but belong to no tenant. Ask an owner for an
          invitation.
        </p>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
