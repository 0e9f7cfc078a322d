import type { approveAction, listApprovals, RouteResponse } from '@heroagent/contracts';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { ErrorNote, Json, Loading, Notice, Page, Time, useAction, useLoad } from '../ui.js';

type Approval = RouteResponse<typeof listApprovals>['approvals'][number];

export function Approvals() {
  const [which, setWhich] = useState<'pending' | 'all'>('pending');
  const [decided, setDecided] = useState<string | undefined>(undefined);
  const approvals = useLoad(
    () => api<RouteResponse<typeof listApprovals>>('GET', `/v1/approvals?status=${which}`),
    [which],
    3000,
  );
  return (
    <Page
      title="Approvals"
      intro="Actions that wait for a person: exactly what would be done, why the agent wants it, why the policy asks you, and whether it can be undone."
    >
      <label for="approvals-which">Show</label>{' '}
      <select
        id="approvals-which"
        value={which}
        onChange={(event) => setWhich(event.currentTarget.value as 'pending' | 'all')}
      >
        <option value="pending">Waiting for a decision</option>
        <option value="all">All</option>
      </select>
      <ErrorNote error={approvals.error} />
      <Notice text={decided} />
      {approvals.data === undefined ? (
        <Loading what="approvals" />
      ) : approvals.data.approvals.length === 0 ? (
        <p>Nothing waits for you.</p>
      ) : (
        approvals.data.approvals.map((approval) => (
          <ApprovalCard
            key={approval.id}
            approval={approval}
            onDecided={(message) => {
              setDecided(message);
              approvals.reload();
            }}
          />
        ))
      )}
    </Page>
  );
}

function ApprovalCard(props: { approval: Approval; onDecided: (message: string) => void }) {
  const { approval } = props;
  const session = useSession();
  const decide = useAction();
  const [note, setNote] = useState('');
  const mayDecide = approval.status === 'pending' && session.tenant.role !== 'auditor';
  const send = (verdict: 'approve' | 'deny') =>
    decide.run(async () => {
      const answer = await api<RouteResponse<typeof approveAction>>(
        'POST',
        `/v1/approvals/${approval.id}/${verdict}`,
        { note },
      );
      const message =
        verdict === 'approve'
          ? answer.status === 'approved'
            ? `Approved and done (${approval.action}): ${JSON.stringify(answer.outcome)}`
            : `Approved; ${approval.required - answer.decisions.filter((d) => d.decision === 'approve').length} more approval(s) needed.`
          : `Denied (${approval.action}): it will not run.`;
      props.onDecided(message);
      return message;
    });
  const noteId = `note-${approval.id}`;
  return (
    <article class="card" aria-labelledby={`approval-${approval.id}`}>
      <h2 id={`approval-${approval.id}`}>
        <code>{approval.action}</code> ({approval.class}) — {approval.status}
      </h2>
      <dl class="facts">
        <dt>Why the agent wants it</dt>
        <dd>“{approval.rationale}”</dd>
        <dt>Why you are asked</dt>
        <dd>
          {approval.reason} <span class="muted">(policy {approval.policyId})</span>
        </dd>
        {approval.untrusted.length > 0 ? (
          <>
            <dt>Not from you</dt>
            <dd>
              <ul>
                {approval.untrusted.map((value) => (
                  <li key={value.param}>
                    <code>{value.param}</code>: {value.why}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
        <dt>Undo</dt>
        <dd>{approval.undo}</dd>
        <dt>Task</dt>
        <dd>
          <a href={href('tasks', approval.taskId)}>open the task</a>
        </dd>
        <dt>Asked</dt>
        <dd>
          <Time at={approval.createdAt} />, expires <Time at={approval.expiresAt} />
        </dd>
        <dt>Approvals needed</dt>
        <dd>{approval.required}</dd>
      </dl>
      <Json value={approval.params} label={`Exact parameters of ${approval.action}`} />
      {approval.decisions.length > 0 ? (
        <ul>
          {approval.decisions.map((decision) => (
            <li key={`${decision.userId}-${decision.at}`}>
              {decision.decision} by {decision.userId} at <Time at={decision.at} />
              {decision.note === '' ? '' : `: ${decision.note}`}
            </li>
          ))}
        </ul>
      ) : null}
      {mayDecide ? (
        <div class="actions">
          <label for={noteId}>Note (optional)</label>
          <input
            id={noteId}
            value={note}
            maxLength={500}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
          <button type="button" disabled={decide.busy} onClick={() => void send('approve')}>
            Approve
          </button>
          <button
            type="button"
            class="danger"
            disabled={decide.busy}
            onClick={() => void send('deny')}
          >
            Deny
          </button>
        </div>
      ) : null}
      <ErrorNote error={decide.error} />
      <Notice text={decide.notice} />
    </article>
  );
}
