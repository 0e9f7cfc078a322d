import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { canManage, canOversee, useSession } from '../session.js';
import { ErrorNote, Loading, Notice, Page, Time, useAction, useLoad } from '../ui.js';

/** `GET`/`POST /v1/tenant/retention`. */
interface Retention {
  taskHistoryDays: number | null;
  updatedAt: string | null;
  updatedBy: string | null;
  auditRecord: string;
}

export function YourData() {
  const session = useSession();
  const exported = useAction();
  const download = () =>
    exported.run(async () => {
      const data = await api<unknown>('GET', '/v1/me/export');
      const url = URL.createObjectURL(
        new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }),
      );
      const link = document.createElement('a');
      link.href = url;
      link.download = 'heroagent-my-data.json';
      link.click();
      URL.revokeObjectURL(url);
      return 'Your data was downloaded.';
    });
  return (
    <Page title="Your data" intro="Take your data with you, or leave for good.">
      <h2>Where your data is</h2>
      <ul>
        <li>
          Your profile, memberships and sessions are in this deployment's Postgres database. What
          you ask the agent, its timeline and reasons, and every action's details and results are
          there too, encrypted with a key of yours in this tenant; only the gateway opens them, for
          you and for the people your tenant lets see its record.
        </li>
        <li>
          The signed audit record keeps ids, outcomes, times and the address and browser a request
          came from; the agent's reasons and other words about people are in it only encrypted with
          your key. It also goes to your tenant's SIEM if an admin configured one, without those
          words.
        </li>
        <li>
          Your Google refresh tokens are held only by vault-proxy, in its secrets store (Vault, or
          an encrypted store in a development deployment): never in the gateway or in the agent.
          Access tokens live in memory until they expire, and are never written down.
        </li>
        <li>
          Models: what a model sees depends on your tenant's agent settings (see Agents); no
          provider that trains on customer data is ever used.
        </li>
      </ul>
      {canOversee(session) ? <RetentionSettings editable={canManage(session)} /> : null}
      <h2>Export my data</h2>
      <button type="button" disabled={exported.busy} onClick={() => void download()}>
        Download my data (JSON)
      </button>
      <ErrorNote error={exported.error} />
      <Notice text={exported.notice} />
      <h2>Close my account</h2>
      <p>
        Your key is destroyed at once, so everything encrypted with it becomes unreadable, and your
        tasks, actions and sessions are deleted. Your connections are revoked at Google (retried
        until Google confirms; a receipt is recorded). The audit record stays verifiable; your words
        in it become unreadable.
      </p>
      <ConfirmedClosure
        id="close-confirm"
        what={`your email (${session.user.email})`}
        expected={session.user.email}
        label="Close my account"
        path="/v1/me/close"
        done="Your account is closed."
      />
      {session.tenant.role === 'owner' ? (
        <>
          <h2>Delete this tenant</h2>
          <p>
            Everything of {session.tenant.name} is deleted: members, tasks, policies, connections.
          </p>
          <ConfirmedClosure
            id="tenant-confirm"
            what={`the tenant's name (${session.tenant.name})`}
            expected={session.tenant.name}
            label="Delete the tenant"
            path="/v1/tenant/close"
            done="The tenant is deleted."
          />
        </>
      ) : null}
    </Page>
  );
}

function RetentionSettings(props: { editable: boolean }) {
  const retention = useLoad(() => api<Retention>('GET', '/v1/tenant/retention'), []);
  const [days, setDays] = useState('');
  useEffect(() => {
    if (retention.data !== undefined) setDays(retention.data.taskHistoryDays?.toString() ?? '');
  }, [retention.data]);
  const save = useAction();
  return (
    <>
      <h2>Retention</h2>
      <ErrorNote error={retention.error} />
      {retention.data === undefined ? (
        retention.error === undefined ? (
          <Loading what="retention settings" />
        ) : null
      ) : (
        <form
          class="card"
          onSubmit={(event) => {
            event.preventDefault();
            void save.run(async () => {
              await api('POST', '/v1/tenant/retention', {
                taskHistoryDays: days === '' ? null : Number(days),
              });
              retention.reload();
              return days === ''
                ? 'Task history is kept until the tenant is deleted.'
                : `Task history older than ${days} days will be deleted.`;
            });
          }}
        >
          <p>{retention.data.auditRecord}</p>
          <label for="retention-days">
            Keep task history (requests, timelines, actions) for this many days; empty keeps it
          </label>
          <input
            id="retention-days"
            type="number"
            min={7}
            max={3650}
            value={days}
            readOnly={!props.editable}
            onInput={(event) => setDays(event.currentTarget.value)}
          />
          <p class="muted">
            Last changed <Time at={retention.data.updatedAt} />
          </p>
          {props.editable ? (
            <button type="submit" disabled={save.busy}>
              Save retention
            </button>
          ) : null}
          <ErrorNote error={save.error} />
          <Notice text={save.notice} />
        </form>
      )}
    </>
  );
}

/** A closure that cannot be undone, sent only once the person typed what identifies it. */
function ConfirmedClosure(props: {
  id: string;
  what: string;
  expected: string;
  label: string;
  path: string;
  done: string;
}) {
  const [confirm, setConfirm] = useState('');
  const close = useAction();
  return (
    <>
      <label for={props.id}>Type {props.what} to confirm</label>
      <input
        id={props.id}
        value={confirm}
        onInput={(e) => setConfirm(e.currentTarget.value)}
        autoComplete="off"
      />
      <button
        type="button"
        class="danger"
        disabled={close.busy || confirm !== props.expected}
        onClick={() =>
          void close.run(async () => {
            await api('POST', props.path, { confirm });
            window.location.assign('/');
            return props.done;
          })
        }
      >
        {props.label}
      </button>
      <ErrorNote error={close.error} />
      <Notice text={close.notice} />
    </>
  );
}
