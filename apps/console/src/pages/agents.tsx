import type { getAgentSettings, getAgentsSwitch, RouteResponse } from '@heroagent/contracts';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { canManage, useSession } from '../session.js';
import { ErrorNote, Loading, Notice, Page, useAction, useLoad } from '../ui.js';

type Settings = RouteResponse<typeof getAgentSettings>;

export function Agents() {
  const session = useSession();
  const manager = canManage(session);
  const settings = useLoad(() => api<Settings>('GET', '/v1/tenant/agent-settings'), []);
  const paused = useLoad(
    () =>
      session.tenant.role === 'member'
        ? Promise.resolve({ paused: false })
        : api<RouteResponse<typeof getAgentsSwitch>>('GET', '/v1/tenant/agents'),
    [],
  );
  const toggle = useAction();
  return (
    <Page title="Agents" intro="Which models your agents use, and the switch that stops them all.">
      <h2>All agents</h2>
      <ErrorNote error={paused.error ?? toggle.error} />
      <Notice text={toggle.notice} />
      {paused.data === undefined ? (
        <Loading what="the agents' switch" />
      ) : (
        <p>
          The tenant's agents are{' '}
          <strong data-testid="agents-state">{paused.data.paused ? 'paused' : 'running'}</strong>.{' '}
          {manager ? (
            <button
              type="button"
              class={paused.data.paused ? '' : 'danger'}
              disabled={toggle.busy}
              onClick={() =>
                void toggle.run(async () => {
                  const pausing = !paused.data!.paused;
                  await api('POST', `/v1/tenant/agents/${pausing ? 'pause' : 'resume'}`);
                  paused.reload();
                  return pausing
                    ? 'Every agent is paused: all capabilities are refused until you resume.'
                    : 'Agents may act again.';
                })
              }
            >
              {paused.data.paused ? 'Resume all agents' : 'Pause all agents'}
            </button>
          ) : null}
        </p>
      )}
      <h2>Models</h2>
      <ErrorNote error={settings.error} />
      {settings.data === undefined ? (
        settings.error === undefined ? (
          <Loading what="model settings" />
        ) : null
      ) : (
        <ModelSettings settings={settings.data} editable={manager} onSaved={settings.reload} />
      )}
    </Page>
  );
}

function ModelSettings(props: { settings: Settings; editable: boolean; onSaved: () => void }) {
  const [allowCloud, setAllowCloud] = useState(props.settings.settings.allowCloud);
  const [providerId, setProviderId] = useState(props.settings.settings.providerId ?? '');
  const [bodies, setBodies] = useState(props.settings.settings.cloudMayReadBodies);
  useEffect(() => {
    setAllowCloud(props.settings.settings.allowCloud);
    setProviderId(props.settings.settings.providerId ?? '');
    setBodies(props.settings.settings.cloudMayReadBodies);
  }, [props.settings]);
  const save = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void save.run(async () => {
      await api('POST', '/v1/tenant/agent-settings', {
        allowCloud,
        providerId: providerId === '' ? null : providerId,
        cloudMayReadBodies: bodies,
      });
      props.onSaved();
      return 'Saved: the next task uses these settings.';
    });
  };
  const disabled = !props.editable;
  return (
    <form class="card" onSubmit={submit}>
      <p>
        Local models run on your own servers: nothing leaves them. Before anything goes to a cloud
        model, addresses, phone numbers, names and (unless you allow it) message bodies are replaced
        by placeholders. Providers that may train on your data are never used.
      </p>
      <label class="check">
        <input
          type="checkbox"
          checked={allowCloud}
          disabled={disabled}
          onChange={(e) => setAllowCloud(e.currentTarget.checked)}
        />
        Allow cloud models
      </label>
      <label for="model-provider">Provider</label>
      <select
        id="model-provider"
        value={providerId}
        disabled={disabled}
        onChange={(e) => setProviderId(e.currentTarget.value)}
      >
        <option value="">
          The default ({props.settings.defaultProviderId ?? 'none configured'})
        </option>
        {props.settings.providers.map((provider) => (
          <option key={provider.id} value={provider.id} disabled={provider.trainsOnCustomerData}>
            {provider.name} — {provider.model}, {provider.location}
            {provider.trainsOnCustomerData ? ' (may train on your data: not selectable)' : ''}
          </option>
        ))}
      </select>
      <label class="check">
        <input
          type="checkbox"
          checked={bodies}
          disabled={disabled || !allowCloud}
          onChange={(e) => setBodies(e.currentTarget.checked)}
        />
        A cloud model may read message bodies in clear
      </label>
      {props.editable ? (
        <button type="submit" disabled={save.busy}>
          Save model settings
        </button>
      ) : (
        <p class="muted">Only owners and admins change these.</p>
      )}
      <ErrorNote error={save.error} />
      <Notice text={save.notice} />
    </form>
  );
}
