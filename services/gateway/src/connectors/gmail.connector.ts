import { gmail, type gmail_v1 } from '@googleapis/gmail';
import type { z } from 'zod';
import {
  archiveMessage,
  createDraft,
  labelMessage,
  readMessage,
  searchMessages,
  sendMessage,
  trashMessage,
} from '@heroagent/contracts';
import type { Connector, ConnectorCall, ConnectorOutcome, UndoCall } from '../actions/connector.js';
import { googleFailure } from './google-errors.js';
import { plainTextMessage } from './mime.js';

type Params<A extends { params: z.ZodType }> = z.output<A['params']>;

const SUMMARY_HEADERS = ['From', 'Subject', 'Date'];

function header(message: gmail_v1.Schema$Message, name: string): string | undefined {
  return (
    message.payload?.headers?.find((h) => h.name?.toLowerCase() === name.toLowerCase())?.value ??
    undefined
  );
}

/** The text of a message: its first text/plain part, decoded. */
function plainText(part: gmail_v1.Schema$MessagePart | undefined): string | undefined {
  if (part === undefined) return undefined;
  if (part.mimeType === 'text/plain' && typeof part.body?.data === 'string') {
    return Buffer.from(part.body.data, 'base64url').toString('utf8');
  }
  for (const child of part.parts ?? []) {
    const found = plainText(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Gmail, through Google's own client (`@googleapis/gmail`), with the access token for this one
 * call. Results are minimised to what the action returns; what undoing needs is kept aside.
 */
export class GmailConnector implements Connector {
  private static readonly TYPES: ReadonlySet<string> = new Set([
    searchMessages.type,
    readMessage.type,
    createDraft.type,
    sendMessage.type,
    labelMessage.type,
    archiveMessage.type,
    trashMessage.type,
  ]);

  constructor(private readonly options: { rootUrl: string; timeoutMs: number }) {}

  handles(type: string): boolean {
    return GmailConnector.TYPES.has(type);
  }

  async execute(call: ConnectorCall): Promise<ConnectorOutcome> {
    const api = this.api(call.accessToken);
    try {
      switch (call.type) {
        case searchMessages.type:
          return await this.search(api, call.params as Params<typeof searchMessages>);
        case readMessage.type:
          return await this.read(api, call.params as Params<typeof readMessage>);
        case createDraft.type:
          return await this.draft(api, call.params as Params<typeof createDraft>);
        case sendMessage.type:
          return await this.send(api, call.params as Params<typeof sendMessage>);
        case labelMessage.type: {
          const params = call.params as Params<typeof labelMessage>;
          return await this.relabel(api, params.messageId, params.add, params.remove);
        }
        case archiveMessage.type:
          return await this.relabel(
            api,
            (call.params as Params<typeof archiveMessage>).messageId,
            [],
            ['INBOX'],
          );
        case trashMessage.type:
          return await this.trash(api, (call.params as Params<typeof trashMessage>).messageId);
        default:
          throw new Error(`GmailConnector cannot do ${call.type}`);
      }
    } catch (error) {
      throw googleFailure(error);
    }
  }

  /** Undoes a write from the state kept when it ran. */
  async undo(call: UndoCall): Promise<void> {
    const api = this.api(call.accessToken);
    const state = call.undoState as {
      draftId?: string;
      messageId?: string;
      add?: string[];
      remove?: string[];
    };
    try {
      switch (call.type) {
        case createDraft.type:
          await api.users.drafts.delete({ userId: 'me', id: state.draftId ?? '' });
          return;
        case labelMessage.type:
        case archiveMessage.type:
          await api.users.messages.modify({
            userId: 'me',
            id: state.messageId ?? '',
            requestBody: { addLabelIds: state.add ?? [], removeLabelIds: state.remove ?? [] },
          });
          return;
        case trashMessage.type:
          await api.users.messages.untrash({ userId: 'me', id: state.messageId ?? '' });
          return;
        default:
          throw new Error(`GmailConnector cannot undo ${call.type}`);
      }
    } catch (error) {
      throw googleFailure(error);
    }
  }

  private api(accessToken: string): gmail_v1.Gmail {
    return gmail({
      version: 'v1',
      rootUrl: this.options.rootUrl,
      headers: { authorization: `Bearer ${accessToken}` },
      timeout: this.options.timeoutMs,
      retry: false,
    });
  }

  private async search(api: gmail_v1.Gmail, params: Params<typeof searchMessages>) {
    const listed = await api.users.messages.list({
      userId: 'me',
      q: params.query,
      maxResults: params.maxResults,
      ...(params.labelIds === undefined ? {} : { labelIds: params.labelIds }),
      ...(params.pageToken === undefined ? {} : { pageToken: params.pageToken }),
    });
    // The messages' headers are fetched a few at a time, not one after another: a search of ten
    // would otherwise cost eleven round trips to Google in a row.
    const ids = (listed.data.messages ?? [])
      .map(({ id }) => id)
      .filter((id): id is string => typeof id === 'string');
    const messages = await mapConcurrently(ids, GET_CONCURRENCY, async (id) => {
      const { data } = await api.users.messages.get({
        userId: 'me',
        id,
        format: 'metadata',
        metadataHeaders: SUMMARY_HEADERS,
      });
      return {
        id,
        threadId: data.threadId ?? id,
        from: header(data, 'From'),
        subject: header(data, 'Subject'),
        date: header(data, 'Date'),
        snippet: data.snippet ?? undefined,
      };
    });
    return {
      result: {
        messages,
        ...(listed.data.nextPageToken ? { nextPageToken: listed.data.nextPageToken } : {}),
      },
    };
  }

  private async read(api: gmail_v1.Gmail, params: Params<typeof readMessage>) {
    const fields = new Set(params.fields);
    const { data } = await api.users.messages.get({
      userId: 'me',
      id: params.messageId,
      format: fields.has('body') ? 'full' : 'metadata',
      ...(fields.has('body') ? {} : { metadataHeaders: ['From', 'To', 'Cc', 'Subject', 'Date'] }),
    });
    const result: Record<string, string | string[]> = { id: params.messageId };
    const put = (field: string, value: string | string[] | null | undefined) => {
      if (fields.has(field as never) && value !== undefined && value !== null)
        result[field] = value;
    };
    put('from', header(data, 'From'));
    put('to', header(data, 'To'));
    put('cc', header(data, 'Cc'));
    put('subject', header(data, 'Subject'));
    put('date', header(data, 'Date'));
    put('snippet', data.snippet);
    put('labels', data.labelIds ?? []);
    put('body', plainText(data.payload));
    return { result };
  }

  private async draft(api: gmail_v1.Gmail, params: Params<typeof createDraft>) {
    const { data } = await api.users.drafts.create({
      userId: 'me',
      requestBody: { message: { raw: plainTextMessage(params) } },
    });
    const draftId = data.id ?? '';
    const messageId = data.message?.id ?? '';
    return { result: { draftId, messageId }, undoState: { draftId } };
  }

  /** Sends (when the outbox releases it): a reply goes into the thread of the message it answers. */
  private async send(api: gmail_v1.Gmail, params: Params<typeof sendMessage>) {
    const threadId =
      params.inReplyTo === undefined
        ? undefined
        : ((await api.users.messages.get({ userId: 'me', id: params.inReplyTo, format: 'minimal' }))
            .data.threadId ?? undefined);
    const { data } = await api.users.messages.send({
      userId: 'me',
      requestBody: {
        raw: plainTextMessage(params),
        ...(threadId === undefined ? {} : { threadId }),
      },
    });
    return { result: { messageId: data.id ?? '', threadId: data.threadId ?? '' } };
  }

  /** Adds and removes labels; undoing puts back exactly the labels that changed. */
  private async relabel(
    api: gmail_v1.Gmail,
    messageId: string,
    add: readonly string[],
    remove: readonly string[],
  ) {
    const before = await api.users.messages.get({ userId: 'me', id: messageId, format: 'minimal' });
    const had = new Set(before.data.labelIds ?? []);
    const { data } = await api.users.messages.modify({
      userId: 'me',
      id: messageId,
      requestBody: { addLabelIds: [...add], removeLabelIds: [...remove] },
    });
    return {
      result: { id: messageId, labelIds: data.labelIds ?? [] },
      undoState: {
        messageId,
        // The inverse of what actually changed: labels added that were absent, removed that were present.
        add: remove.filter((label) => had.has(label)),
        remove: add.filter((label) => !had.has(label)),
      },
    };
  }

  private async trash(api: gmail_v1.Gmail, messageId: string) {
    const { data } = await api.users.messages.trash({ userId: 'me', id: messageId });
    return { result: { id: messageId, labelIds: data.labelIds ?? [] }, undoState: { messageId } };
  }
}

/** How many `messages.get` calls a search has in flight at once. */
const GET_CONCURRENCY = 5;

/** Maps `items` with at most `limit` calls at once, keeping their order. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await map(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
