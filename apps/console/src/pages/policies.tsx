import type { getTenantPolicy, RouteResponse } from '@heroagent/contracts';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { canManage, useSession } from '../session.js';
import { ErrorNote, Loading, Notice, Page, Time, useAction, useLoad } from '../ui.js';

type PolicyView = RouteResponse<typeof getTenantPolicy>;

interface Decision {
  effect: 'allow' | 'deny' | 'require_approval';
  policyId: string;
  reason: string;
}

/** The answer of the "what would happen" simulator. */
interface Simulation {
  currentVersion: number;
  replayed: number;
  changed: number;
  results: {
    actionId: string;
    action: string;
    createdAt: string;
    facts: { recipients: string[]; amount: { minor: number; currency: string } | null };
    current: Decision;
    proposed: Decision;
    changed: boolean;
  }[];
  assumptions: string[];
}

const EFFECT = { allow: 'allowed', deny: 'denied', require_approval: 'needs approval' } as const;

export function Policies() {
  const session = useSession();
  const policy = useLoad(() => api<PolicyView>('GET', '/v1/tenant/policy'), []);
  const [text, setText] = useState('');
  useEffect(() => {
    if (policy.data !== undefined) setText(policy.data.text);
  }, [policy.data]);
  const save = useAction();
  const simulate = useAction();
  const [simulation, setSimulation] = useState<Simulation | undefined>(undefined);
  const editable = canManage(session);
  if (policy.data === undefined) {
    return (
      <Page title="Policies">
        <ErrorNote error={policy.error} />
        {policy.error === undefined ? <Loading what="the policy" /> : null}
      </Page>
    );
  }
  return (
    <Page
      title="Policies"
      intro="Your tenant's Cedar policies decide what agents may do, what waits for a person, and what is never allowed. They are evaluated with the defaults below."
    >
      <p>
        Version {policy.data.version}
        {policy.data.updatedAt === null ? '' : ', saved '}
        <Time at={policy.data.updatedAt} />.
      </p>
      <label for="policy-text">Your policies (Cedar)</label>
      <textarea
        id="policy-text"
        class="code"
        rows={14}
        spellcheck={false}
        readOnly={!editable}
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
      />
      <div class="actions">
        <button
          type="button"
          disabled={simulate.busy}
          onClick={() =>
            void simulate.run(async () => {
              const answer = await api<Simulation>('POST', '/v1/tenant/policy/simulate', { text });
              setSimulation(answer);
              return `Replayed ${answer.replayed} recent actions: ${answer.changed} would be decided differently.`;
            })
          }
        >
          What would happen?
        </button>
        {editable ? (
          <button
            type="button"
            disabled={save.busy}
            onClick={() =>
              void save.run(async () => {
                await api('POST', '/v1/tenant/policy', {
                  text,
                  expectedVersion: policy.data!.version,
                });
                policy.reload();
                return 'Saved: it decides from the next action on.';
              })
            }
          >
            Save policies
          </button>
        ) : null}
      </div>
      <ErrorNote error={save.error ?? simulate.error} />
      <Notice text={save.notice ?? simulate.notice} />
      {simulation === undefined ? null : <SimulationTable simulation={simulation} />}
      <h2>In force now</h2>
      <ul>
        {policy.data.policies.map((summary) => (
          <li key={summary.id}>
            <code>{summary.id}</code>: {summary.effect}
            {summary.approval ? ' with approval' : ''} — {summary.reason ?? ''}
          </li>
        ))}
      </ul>
      <details>
        <summary>The defaults every tenant has</summary>
        <pre class="code">{policy.data.defaults}</pre>
      </details>
    </Page>
  );
}

function SimulationTable({ simulation }: { simulation: Simulation }) {
  return (
    <>
      <h2>What would happen</h2>
      {simulation.assumptions.length > 0 ? (
        <ul class="muted">
          {simulation.assumptions.map((sentence) => (
            <li key={sentence}>{sentence}</li>
          ))}
        </ul>
      ) : null}
      <table>
        <caption class="visually-hidden">
          Recent actions under the saved and the proposed policy
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">To / amount</th>
            <th scope="col">Now</th>
            <th scope="col">Proposed</th>
          </tr>
        </thead>
        <tbody>
          {simulation.results.map((result) => (
            <tr key={result.actionId} class={result.changed ? 'changed' : ''}>
              <td>
                <Time at={result.createdAt} />
              </td>
              <td>
                <code>{result.action}</code>
              </td>
              <td>
                {result.facts.recipients.join(', ')}
                {result.facts.amount === null
                  ? ''
                  : ` ${(result.facts.amount.minor / 100).toFixed(2)} ${result.facts.amount.currency}`}
              </td>
              <td>{EFFECT[result.current.effect]}</td>
              <td>
                {result.changed ? (
                  <strong>{EFFECT[result.proposed.effect]}</strong>
                ) : (
                  EFFECT[result.proposed.effect]
                )}
                <span class="muted"> ({result.proposed.policyId})</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
