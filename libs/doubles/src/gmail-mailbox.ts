import { GoogleApiError } from './google-api-double.js';
import { snippetOf, type MessagePart } from './gmail-mime.js';

/** A Gmail mailbox as the double keeps it, and how its messages and labels read as resources. */

export const SYSTEM_LABELS = [
  'INBOX',
  'SENT',
  'TRASH',
  'UNREAD',
  'STARRED',
  'IMPORTANT',
  'SPAM',
  'DRAFT',
] as const;

/** Gmail's `Label` resource. */
export interface GmailLabel {
  id: string;
  name: string;
  type: 'system' | 'user';
  messageListVisibility?: string;
  labelListVisibility?: string;
}

export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  raw: string;
  payload: MessagePart;
  internalDate: number;
  historyId: string;
  /** Whether untrash should put it back in the inbox. */
  trashedFromInbox: boolean;
}

export interface Mailbox {
  readonly messages: Map<string, StoredMessage>;
  /** Draft id to message id. */
  readonly drafts: Map<string, string>;
  readonly labels: Map<string, GmailLabel>;
}

export const notFound = () =>
  new GoogleApiError(404, 'Requested entity was not found.', 'notFound');

export function systemLabels(): GmailLabel[] {
  return SYSTEM_LABELS.map((id) => ({ id, name: id, type: 'system' }));
}

export function isLabel(box: Mailbox, id: string): boolean {
  return (SYSTEM_LABELS as readonly string[]).includes(id) || box.labels.has(id);
}

/** `label:` accepts a label's name (spaces and slashes may be written as dashes) or id. */
export function labelIdOf(box: Mailbox, nameOrId: string): string | undefined {
  const normal = (text: string) => text.toLowerCase().replace(/[\s/]+/g, '-');
  return [...systemLabels(), ...box.labels.values()].find(
    (label) => normal(label.name) === normal(nameOrId) || label.id.toLowerCase() === nameOrId,
  )?.id;
}

export function labelWithCounts(box: Mailbox, id: string): Record<string, unknown> {
  const label = [...systemLabels(), ...box.labels.values()].find((l) => l.id === id);
  if (label === undefined) throw notFound();
  const messages = [...box.messages.values()].filter((m) => m.labelIds.includes(id));
  const unread = messages.filter((m) => m.labelIds.includes('UNREAD'));
  const threads = (list: StoredMessage[]) => new Set(list.map((m) => m.threadId)).size;
  return {
    ...label,
    messagesTotal: messages.length,
    messagesUnread: unread.length,
    threadsTotal: threads(messages),
    threadsUnread: threads(unread),
  };
}

export function message(box: Mailbox, id: string | undefined): StoredMessage {
  const found = box.messages.get(id ?? '');
  if (found === undefined) throw notFound();
  return found;
}

export function draft(box: Mailbox, id: string | undefined): string {
  const messageId = box.drafts.get(id ?? '');
  if (messageId === undefined) throw notFound();
  return messageId;
}

export function summary(message: StoredMessage): Record<string, unknown> {
  return { id: message.id, threadId: message.threadId, labelIds: [...message.labelIds] };
}

/** A message in one of messages.get's formats. */
export function render(
  message: StoredMessage,
  format: string,
  metadataHeaders: readonly string[],
): Record<string, unknown> {
  const base = {
    ...summary(message),
    snippet: snippetOf(message.payload),
    sizeEstimate: Buffer.byteLength(message.raw),
    historyId: message.historyId,
    internalDate: String(message.internalDate),
  };
  if (format === 'minimal') return base;
  if (format === 'raw') return { ...base, raw: Buffer.from(message.raw).toString('base64url') };
  if (format === 'full') return { ...base, payload: message.payload };
  const wanted = metadataHeaders.map((name) => name.toLowerCase());
  const { partId, mimeType, filename, headers } = message.payload;
  return {
    ...base,
    payload: {
      partId,
      mimeType,
      filename,
      headers:
        wanted.length === 0
          ? headers
          : headers.filter((h) => wanted.includes(h.name.toLowerCase())),
    },
  };
}

/** Gmail lists newest first. */
export function newestFirst(box: Mailbox): StoredMessage[] {
  return [...box.messages.values()].reverse().sort((a, b) => b.internalDate - a.internalDate);
}

/** labels.create: names are unique, case-insensitively, system names included. */
export function createLabel(box: Mailbox, body: Record<string, unknown>): GmailLabel {
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (name === '') throw new GoogleApiError(400, 'Invalid label name', 'invalidArgument');
  const taken = [...systemLabels(), ...box.labels.values()].some(
    (label) => label.name.toLowerCase() === name.toLowerCase(),
  );
  if (taken) throw new GoogleApiError(409, 'Label name exists or conflicts', 'duplicate');
  const label: GmailLabel = {
    id: `Label_${box.labels.size + 1}`,
    name,
    type: 'user',
    messageListVisibility:
      typeof body.messageListVisibility === 'string' ? body.messageListVisibility : 'show',
    labelListVisibility:
      typeof body.labelListVisibility === 'string' ? body.labelListVisibility : 'labelShow',
  };
  box.labels.set(label.id, label);
  return label;
}

export function newMailbox(): Mailbox {
  return { messages: new Map(), drafts: new Map(), labels: new Map() };
}
