import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ContractError, type CapabilityClaims } from '@heroagent/contracts';
import type { ApprovalsRepository } from '../approvals/approvals.repository.js';
import type { SettledAction } from './action-sweeps.repository.js';
import type { ActionRow, ActionsRepository } from './actions.repository.js';
import type { FailStaleActions } from './fail-stale-actions.js';
import { outcomeUnknownError } from './outcome-unknown.js';
import { ReplayAction, requestKey } from './replay-action.js';

const claims = { tenantId: randomUUID(), connectionId: randomUUID() } as CapabilityClaims;
const request = {
  capability: 'capability',
  action: 'gmail.drafts.create',
  params: { to: ['ada@corp.example'], subject: 'Hi', body: 'Hi Ada' },
  idempotencyKey: 'key-1',
  rationale: 'You asked me to.',
  untrustedParams: [],
};

function row(status: ActionRow['status'], extra: Partial<ActionRow> = {}): ActionRow {
  return {
    id: 'action-1',
    tenant_id: claims.tenantId,
    status,
    audit_event_id: 'event-1',
    result: null,
    error: null,
    executor: 'replica-a',
    type: 'gmail.drafts.create',
    ...extra,
  } as ActionRow;
}

const settledRow = row('failed', { error: outcomeUnknownError('executor_gone') });

/**
 * A replay whose action reads as `reads` (in turn, the last one repeating) and whose replica is
 * found gone at the `goneAt`-th look (never if undefined); counts what it asked.
 */
function replay(options: { reads: ActionRow[]; goneAt?: number; waitMs: number }) {
  const asked = { gets: 0, looks: 0 };
  const actions = {
    sameRequest: (_row: ActionRow, key: string) =>
      Promise.resolve(key === requestKey(request, claims)),
    get: () => {
      asked.gets += 1;
      return Promise.resolve(options.reads[Math.min(asked.gets, options.reads.length) - 1]);
    },
  } as unknown as ActionsRepository;
  const abandoned = {
    settleIfExecutorGone: (): Promise<SettledAction | undefined> => {
      asked.looks += 1;
      return Promise.resolve(
        asked.looks === options.goneAt ? { row: settledRow, reason: 'executor_gone' } : undefined,
      );
    },
  } as unknown as FailStaleActions;
  const use = new ReplayAction(actions, {} as ApprovalsRepository, abandoned, options.waitMs);
  return { asked, answer: (first: ActionRow) => use.execute(first, request, claims) };
}

async function refusal(answer: Promise<unknown>): Promise<ContractError> {
  try {
    await answer;
  } catch (error) {
    if (error instanceof ContractError) return error;
    throw error;
  }
  throw new Error('it answered');
}

describe('a repeated request whose first attempt is still running', () => {
  it('answers at once with the settled outcome when the replica running it is gone, never waiting', async () => {
    // A wait this long would outlast the test: it must not be waited.
    const { asked, answer } = replay({ reads: [row('executing')], goneAt: 1, waitMs: 60_000 });
    const error = await refusal(answer(row('executing')));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toContain('outcome unknown: the replica executing it stopped');
    expect(asked).toEqual({ gets: 0, looks: 1 });
  });

  it('answers TIMEOUT once it has waited while the replica running it stays alive', async () => {
    const { asked, answer } = replay({ reads: [row('executing')], waitMs: 0 });
    const error = await refusal(answer(row('executing')));
    expect(error.code).toBe('TIMEOUT');
    // Looked before the wait and after it.
    expect(asked.looks).toBe(2);
  });

  it('settles it after the wait when the replica running it went meanwhile', async () => {
    const { asked, answer } = replay({ reads: [row('executing')], goneAt: 2, waitMs: 0 });
    const error = await refusal(answer(row('executing')));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toContain('outcome unknown');
    expect(asked.looks).toBe(2);
  });

  it('answers the first outcome when the live replica finishes it during the wait', async () => {
    const done = row('completed', { result: { draftId: 'd', messageId: 'm' } });
    const { asked, answer } = replay({ reads: [row('executing'), done], waitMs: 60_000 });
    expect(await answer(row('executing'))).toMatchObject({
      status: 'completed',
      actionId: 'action-1',
      result: { draftId: 'd', messageId: 'm' },
    });
    expect(asked.looks).toBe(1);
  });

  it('reads an action someone else settled as it now stands', async () => {
    const { answer } = replay({ reads: [settledRow], waitMs: 60_000 });
    const error = await refusal(answer(row('executing')));
    expect(error.code).toBe('UPSTREAM_FAILED');
  });
});
