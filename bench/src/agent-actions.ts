// The calls the action benches time: an agent's action through the gateway, and the same provider
// work made directly with the gateway's own connector. Every call checks its answer, so a refused
// or failed action can never print a fast figure.
import { randomUUID } from 'node:crypto';
import {
  createDraft,
  executeAction,
  searchMessages,
  type RpcRequestInput,
  type RpcResponse,
} from '@heroagent/contracts';
import { INVOICES, MAILBOX, type ActionPlatform } from './action-platform.js';

/** The read: the person's invoices. */
const SEARCH = { query: 'subject:Invoice' };
/** The write: a draft to the person's own mailbox (a recipient they need not name). */
const DRAFT = {
  to: [MAILBOX.email],
  subject: 'Payments this week',
  body: 'Five bills are waiting in the inbox.',
};

/** One kind of action, called through the gateway and directly. */
export interface ActionKind {
  readonly type: string;
  /** The agent calls gateway.actions.execute (round-robin over the people). */
  readonly action: () => Promise<unknown>;
  /** The gateway's connector called from this process with an access token. */
  readonly direct: () => Promise<unknown>;
}

/** The read (gmail.messages.search) and the allowed write (gmail.drafts.create). */
export function actionKinds(platform: ActionPlatform): {
  readonly read: ActionKind;
  readonly write: ActionKind;
} {
  // Each kind goes round the people on its own, so N calls of one kind reach each person once.
  const calls = { read: 0, write: 0 };
  const execute = async (kind: 'read' | 'write', type: string, params: object) => {
    const capability = platform.capabilities[kind][calls[kind]++ % platform.people]!;
    const answer: RpcResponse<typeof executeAction> = await platform.agent.request(executeAction, {
      capability,
      action: type,
      // The contract types params per action at run time; statically they are an open record.
      params: params as Record<string, never>,
      idempotencyKey: `bench-${randomUUID()}`,
      rationale: 'Looking after the invoices the person asked about.',
    } satisfies RpcRequestInput<typeof executeAction>);
    if (answer.status !== 'completed') throw new Error(`${type} is ${answer.status}`);
    return answer.result;
  };
  // Parsed by the catalog's schema, as the gateway hands them to the connector.
  const direct = async (type: string, params: unknown) =>
    (
      await platform.gmailConnector.execute({
        actionId: randomUUID(),
        type,
        params,
        accessToken: platform.latestAccessToken(),
      })
    ).result;
  const searchParams = searchMessages.params.parse(SEARCH);
  const draftParams = createDraft.params.parse(DRAFT);
  return {
    read: {
      type: searchMessages.type,
      action: async () => expectInvoices(await execute('read', searchMessages.type, SEARCH)),
      direct: async () => expectInvoices(await direct(searchMessages.type, searchParams)),
    },
    write: {
      type: createDraft.type,
      action: async () => expectDraft(await execute('write', createDraft.type, DRAFT)),
      direct: async () => expectDraft(await direct(createDraft.type, draftParams)),
    },
  };
}

function expectInvoices(result: unknown): unknown {
  const found = (result as { messages?: unknown[] } | undefined)?.messages?.length;
  if (found !== INVOICES) throw new Error(`the search found ${found}, not ${INVOICES} messages`);
  return result;
}

function expectDraft(result: unknown): unknown {
  const id = (result as { draftId?: unknown } | undefined)?.draftId;
  if (typeof id !== 'string' || id === '') throw new Error(`no draft: ${JSON.stringify(result)}`);
  return result;
}
