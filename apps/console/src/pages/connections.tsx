import type { listMyConnections, RouteResponse } from '@heroagent/contracts';
import { api } from '../api.js';
import { usePeople } from '../people.js';
import { canManage, canOversee, useSession } from '../session.js';
import { ErrorNote, Loading, Notice, Page, Time, useAction, useLoad } from '../ui.js';

type Connection = RouteResponse<typeof listMyConnections>['connections'][number];

/** What the State column says: revoking waits for Google; revoked shows Google's receipt. */
function RevocationState({ connection }: { connection: Connection }) {
  const revocation = connection.revocation;
  if (connection.health === 'revoking' && revocation !== undefined) {
    return (
      <span>
        revoking: waiting for Google to confirm ({revocation.attempts}{' '}
        {revocation.attempts === 1 ? 'attempt' : 'attempts'}
        {revocation.lastError === undefined ? '' : `; last: ${revocation.lastError}`})
      </span>
    );
  }
  if (connection.health === 'revoked' && revocation?.completedAt !== undefined) {
    return (
      <span>
        revoked: Google answered{' '}
        {revocation.providerAnswer === 'already_invalid'
          ? 'that the token was already invalid'
          : revocation.providerAnswer === 'no_token_stored'
            ? 'nothing (no token was stored)'
            : 'revoked'}{' '}
        <Time at={revocation.completedAt} />, token deleted (receipt {revocation.id.slice(0, 8)})
      </span>
    );
  }
  return <span>{connection.health}</span>;
}

export function Connections() {
  const session = useSession();
  const everyone = canOversee(session);
  const connections = useLoad(
    () =>
      api<RouteResponse<typeof listMyConnections>>(
        'GET',
        `/v1/connections${everyone ? '?userId=all' : ''}`,
      ),
    [everyone],
  );
  const who = usePeople('you');
  const mayRevoke = (connection: Connection) =>
    connection.health !== 'revoked' &&
    connection.health !== 'revoking' &&
    session.tenant.role !== 'auditor' &&
    (connection.userId === session.user.id || canManage(session));
  const revoke = useAction();
  return (
    <Page
      title="Connections"
      intro="The accounts your agent may act through. HeroAgent never holds your password; revoking here stops their use at once and revokes at Google too, retrying until Google confirms."
    >
      <p>
        <a
          class="button"
          href="/v1/connections/google/start?scopes=gmail.modify,calendar.events&returnTo=/%23/connections"
        >
          Connect a Google account
        </a>
      </p>
      <ErrorNote error={connections.error ?? revoke.error} />
      <Notice text={revoke.notice} />
      {connections.data === undefined ? (
        <Loading what="connections" />
      ) : connections.data.connections.length === 0 ? (
        <p>No account is connected.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Connected accounts</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Provider</th>
              <th scope="col">Account</th>
              <th scope="col">Scopes</th>
              <th scope="col">State</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span class="visually-hidden">Revoke</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {connections.data.connections.map((connection: Connection) => (
              <tr key={connection.id}>
                <td>{who(connection.userId)}</td>
                <td>{connection.provider}</td>
                <td>{connection.account}</td>
                <td>
                  <ul class="plain">
                    {connection.scopes.map((scope) => (
                      <li key={scope}>{scope.replace('https://www.googleapis.com/auth/', '')}</li>
                    ))}
                  </ul>
                </td>
                <td>
                  <RevocationState connection={connection} />
                </td>
                <td>
                  <Time at={connection.lastUsedAt ?? null} />
                </td>
                <td>
                  {!mayRevoke(connection) ? null : (
                    <button
                      type="button"
                      class="danger"
                      disabled={revoke.busy}
                      aria-label={`Revoke ${connection.account}`}
                      onClick={() =>
                        void revoke.run(async () => {
                          await api('DELETE', `/v1/connections/${connection.id}`);
                          connections.reload();
                          return `${connection.account} is revoked here; Google's confirmation follows.`;
                        })
                      }
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
