import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { canOversee, useSession } from '../session.js';
import { ErrorNote, Loading, Notice, Page, Time, useAction, useLoad } from '../ui.js';
import type { IntegrityStatus, VerificationResult } from './records-types.js';

/** The tenant's chain: is it intact, its latest signed checkpoint, verify now, download the proof. */
export function Integrity() {
  const session = useSession();
  const allowed = canOversee(session);
  const status = useLoad(
    () => (allowed ? api<IntegrityStatus>('GET', '/v1/integrity') : Promise.resolve(undefined)),
    [allowed],
  );
  const verify = useAction();
  const [report, setReport] = useState<VerificationResult | undefined>(undefined);
  if (!allowed) {
    return (
      <Page title="Integrity">
        <p>Owners, admins and auditors see the integrity of the tenant's record.</p>
      </Page>
    );
  }
  return (
    <Page
      title="Integrity"
      intro="Every event is signed and hash-chained; checkpoints sign the chain. Anyone with the bundle can verify it offline with the repository's verifier."
    >
      <ErrorNote error={status.error} />
      {status.data === undefined ? (
        status.error === undefined ? (
          <Loading what="the chain's status" />
        ) : null
      ) : (
        <ChainStatus status={status.data} />
      )}
      <div class="actions">
        <button
          type="button"
          disabled={verify.busy}
          onClick={() =>
            void verify.run(async () => {
              const answer = await api<VerificationResult>('POST', '/v1/integrity/verify');
              setReport(answer);
              status.reload();
              return answer.ok
                ? `The record verifies: ${answer.events} events and ${answer.checkpoints} checkpoints, every signature and link.`
                : `The record does NOT verify: ${answer.firstProblem?.code ?? ''} ${answer.firstProblem?.message ?? ''}`;
            })
          }
        >
          Verify now
        </button>
        <a class="button" href="/v1/exports/audit-bundle" download>
          Download the verifiable bundle
        </a>
      </div>
      <ErrorNote error={verify.error} />
      <Notice text={verify.notice} />
      {report === undefined ? null : (
        <p data-testid="verification" class={report.ok ? 'notice' : 'error'}>
          Verified <Time at={report.verifiedAt} />: {report.ok ? 'intact' : 'NOT intact'}.
        </p>
      )}
      <p class="muted">
        Verify a bundle offline:{' '}
        <code>
          pnpm audit:verify heroagent-audit-&lt;tenant&gt;.jsonl --trust{' '}
          {status.data?.latestCheckpoint?.kid ?? '<audit key id>'}
        </code>
        . Checkpoints you kept (from your SIEM or a checkpoint webhook, under Exports) prove later
        records extend them: add <code>--since &lt;checkpoint file&gt;</code>.
      </p>
    </Page>
  );
}

function ChainStatus({ status }: { status: IntegrityStatus }) {
  return (
    <dl class="facts">
      <dt>Events in the chain</dt>
      <dd data-testid="chain-events">{status.events}</dd>
      <dt>Head</dt>
      <dd>
        {status.head === null ? (
          'empty'
        ) : (
          <>
            #{status.head.seq} <code>{status.head.hash.slice(0, 16)}…</code>,{' '}
            <Time at={status.head.receivedAt} />
          </>
        )}
      </dd>
      <dt>Latest signed checkpoint</dt>
      <dd>
        {status.latestCheckpoint === null ? (
          'none yet'
        ) : (
          <>
            {status.latestCheckpoint.index === null
              ? ''
              : `number ${status.latestCheckpoint.index}: `}
            {status.latestCheckpoint.treeSize} events, root{' '}
            <code>{status.latestCheckpoint.rootHash.slice(0, 16)}…</code>, signed{' '}
            <Time at={status.latestCheckpoint.signedAt} /> by{' '}
            <code>{status.latestCheckpoint.kid}</code>
            {status.latestCheckpoint.coversHead
              ? ' (covers the head)'
              : ' (newer events await the next checkpoint)'}
          </>
        )}
      </dd>
      <dt>Last verified</dt>
      <dd>
        {status.lastVerification === null ? (
          'never'
        ) : (
          <>
            <Time at={status.lastVerification.at} />:{' '}
            {status.lastVerification.ok
              ? 'intact'
              : `NOT intact (${status.lastVerification.problem ?? ''})`}
          </>
        )}
      </dd>
    </dl>
  );
}
