import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { canManage, canOversee, useSession } from '../session.js';
import { ErrorNote, Loading, Notice, Page, Time, useAction, useLoad } from '../ui.js';
import type { SiemDestination as Destination } from './records-types.js';

/**
 * Exports of the record, the SIEM destinations it streams to over OTLP, and the webhooks that
 * receive its signed checkpoints (witnesses outside the operator).
 */
export function Exports() {
  const session = useSession();
  const overseer = canOversee(session);
  const manager = canManage(session);
  const destinations = useLoad(
    () =>
      overseer
        ? api<{ destinations: Destination[] }>('GET', '/v1/tenant/siem-destinations')
        : Promise.resolve({ destinations: [] }),
    [overseer],
  );
  const change = useAction();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Destination['kind']>('otlp');
  const [endpoint, setEndpoint] = useState('');
  const [headerName, setHeaderName] = useState('');
  const [headerValue, setHeaderValue] = useState('');
  if (!overseer) {
    return (
      <Page title="Exports and SIEM">
        <p>
          Owners, admins and auditors export the tenant's record. Your own data is under Your data.
        </p>
      </Page>
    );
  }
  return (
    <Page
      title="Exports and SIEM"
      intro="Take the record away as a file, or stream it to your SIEM as it happens."
    >
      <h2>Export</h2>
      <div class="actions">
        <a class="button" href="/v1/exports/audit-bundle" download>
          Verifiable bundle (JSONL)
        </a>
        <a class="button" href="/v1/exports/audit.csv" download>
          Spreadsheet (CSV)
        </a>
      </div>
      <h2>SIEM destinations</h2>
      <ErrorNote error={destinations.error ?? change.error} />
      <Notice text={change.notice} />
      {destinations.data === undefined ? (
        <Loading what="destinations" />
      ) : destinations.data.destinations.length === 0 ? (
        <p>None: the record is kept here only.</p>
      ) : (
        <table>
          <caption class="visually-hidden">SIEM destinations</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Receives</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Headers</th>
              <th scope="col">Delivered</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {destinations.data.destinations.map((destination) => (
              <tr key={destination.id}>
                <td>{destination.name}</td>
                <td>
                  {destination.kind === 'webhook'
                    ? 'checkpoints (webhook)'
                    : 'events and checkpoints'}
                </td>
                <td>{destination.endpoint}</td>
                <td>{destination.headerNames.join(', ') || '—'}</td>
                <td>
                  {destination.kind === 'otlp'
                    ? `events through #${destination.exportedThroughSeq}, `
                    : ''}
                  checkpoints through #{destination.checkpointsThrough}
                  {destination.lastSuccessAt === null ? '' : ', last '}
                  <Time at={destination.lastSuccessAt} />
                  {destination.lastError === null ? null : (
                    <div class="muted">last error: {destination.lastError}</div>
                  )}
                </td>
                <td>
                  {manager && destination.kind === 'otlp' ? (
                    <>
                      <button
                        type="button"
                        class="secondary"
                        disabled={change.busy}
                        onClick={() =>
                          void change.run(async () => {
                            const answer = await api<{
                              ok?: boolean;
                              status?: number;
                              message?: string;
                            }>('POST', `/v1/tenant/siem-destinations/${destination.id}/test`, {});
                            return answer.ok === false
                              ? `The test send failed: ${answer.message ?? ''}`
                              : 'The test event arrived.';
                          })
                        }
                      >
                        Send a test event
                      </button>
                    </>
                  ) : null}
                  {manager ? (
                    <button
                      type="button"
                      class="danger"
                      disabled={change.busy}
                      onClick={() =>
                        void change.run(async () => {
                          await api('DELETE', `/v1/tenant/siem-destinations/${destination.id}`);
                          destinations.reload();
                          return 'Removed.';
                        })
                      }
                    >
                      Remove
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {manager ? (
        <form
          class="card"
          onSubmit={(event) => {
            event.preventDefault();
            void change.run(async () => {
              await api('POST', '/v1/tenant/siem-destinations', {
                name,
                kind,
                endpoint,
                headers: headerName === '' ? {} : { [headerName]: headerValue },
              });
              destinations.reload();
              setHeaderValue('');
              return kind === 'webhook'
                ? 'Added: every signed checkpoint is posted there, the ones so far first.'
                : 'Added: new events stream there from now on.';
            });
          }}
        >
          <h3>Add a destination</h3>
          <label for="siem-name">Name</label>
          <input
            id="siem-name"
            required
            maxLength={100}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <label for="siem-kind">Receives</label>
          <select
            id="siem-kind"
            value={kind}
            onChange={(e) => setKind(e.currentTarget.value === 'webhook' ? 'webhook' : 'otlp')}
          >
            <option value="otlp">Events and signed checkpoints (OTLP/HTTP logs)</option>
            <option value="webhook">Signed checkpoints only (HTTPS webhook)</option>
          </select>
          <label for="siem-endpoint">
            {kind === 'webhook' ? 'Webhook URL (https)' : 'OTLP/HTTP logs endpoint'}
          </label>
          <input
            id="siem-endpoint"
            type="url"
            required
            value={endpoint}
            placeholder={
              kind === 'webhook'
                ? 'https://witness.example.com/heroagent/checkpoints'
                : 'https://collector.example.com/v1/logs'
            }
            onInput={(e) => setEndpoint(e.currentTarget.value)}
          />
          <label for="siem-header-name">Header name (optional)</label>
          <input
            id="siem-header-name"
            value={headerName}
            placeholder="Authorization"
            onInput={(e) => setHeaderName(e.currentTarget.value)}
          />
          <label for="siem-header-value">Header value (kept encrypted, never shown again)</label>
          <input
            id="siem-header-value"
            type="password"
            autoComplete="off"
            value={headerValue}
            onInput={(e) => setHeaderValue(e.currentTarget.value)}
          />
          <button type="submit" disabled={change.busy}>
            Add destination
          </button>
        </form>
      ) : null}
    </Page>
  );
}
