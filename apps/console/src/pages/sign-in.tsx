import type { listSignInProviders, RouteResponse } from '@heroagent/contracts';
import { api } from '../api.js';
import { ErrorNote, Loading, useLoad } from '../ui.js';

/** Sign-in: only through the gateway's OAuth flows; the console never sees a password. */
export function SignIn() {
  const providers = useLoad(
    () => api<RouteResponse<typeof listSignInProviders>>('GET', '/v1/auth/providers'),
    [],
  );
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to HeroAgent</h1>
      <p>The console shows what your agents did and why, and lets you approve, undo and revoke.</p>
      <ErrorNote error={providers.error} />
      {providers.data === undefined ? (
        <Loading what="sign-in options" />
      ) : providers.data.providers.length === 0 ? (
        <p role="alert">No identity provider is configured for this deployment.</p>
      ) : (
        <ul class="providers">
          {providers.data.providers.map((provider) => (
            <li key={provider.id}>
              <a class="button" href={`/v1/auth/${provider.id}/start?returnTo=/`}>
                Sign in with {provider.name}
              </a>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
