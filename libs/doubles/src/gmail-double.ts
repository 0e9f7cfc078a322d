import { randomBytes } from 'node:crypto';
import {
  DEFAULT_ACCOUNT,
  GoogleApiDouble,
  GoogleApiError,
  pageSize,
  paginate,
  scopeUrl,
  type ApiCall,
  type ApiReply,
  type ApiRoute,
} from './google-api-double.js';
import {
  addressOf,
  composeMessage,
  header,
  parseMessagePart,
  plainText,
  withHeaders,
} from './gmail-mime.js';
import {
  createLabel,
  draft,
  isLabel,
  labelIdOf,
  labelWithCounts,
  message,
  newestFirst,
  newMailbox,
  render,
  summary,
  systemLabels,
  type Mailbox,
  type StoredMessage,
} from './gmail-mailbox.js';
import { compileSearch } from './gmail-search.js';

const MAIL = 'https://mail.google.com/';
const [READONLY, MODIFY, COMPOSE, SEND, LABELS, METADATA] = [
  'gmail.readonly',
  'gmail.modify',
  'gmail.compose',
  'gmail.send',
  'gmail.labels',
  'gmail.metadata',
].map(scopeUrl) as [string, string, string, string, string, string];

// The scopes each method accepts, as its "Authorization scopes" section on
// developers.google.com/gmail/api/reference/rest lists them (add-on and gmail.insert scopes left
// out). gmail.metadata reads headers and labels only: no `q`, no body (see metadataOnly).
const SCOPES = {
  read: [MAIL, MODIFY, READONLY, METADATA],
  profile: [MAIL, MODIFY, READONLY, COMPOSE, METADATA],
  labelsRead: [MAIL, MODIFY, READONLY, LABELS, METADATA],
  labelsWrite: [MAIL, MODIFY, LABELS],
  send: [MAIL, MODIFY, COMPOSE, SEND],
  change: [MAIL, MODIFY],
  draftsRead: [MAIL, MODIFY, READONLY, COMPOSE],
  draftsWrite: [MAIL, MODIFY, COMPOSE],
};

/** A message to put in a mailbox before the test runs. */
export interface GmailSeedMessage {
  from: string;
  to: string;
  subject: string;
  /** Plain text. */
  body: string;
  cc?: string;
  /** Defaults to `['INBOX', 'UNREAD']`. */
  labelIds?: string[];
  /** Defaults to now. */
  date?: Date;
  /** Defaults to a thread of its own. */
  threadId?: string;
  /** The mailbox; defaults to `me@example.com`. */
  account?: string;
}

/** A message the code under test sent (messages.send or drafts.send), as Gmail stored it. */
export interface SentGmailMessage {
  id: string;
  threadId: string;
  account: string;
  from: string;
  to: string;
  cc: string | undefined;
  bcc: string | undefined;
  subject: string;
  /** The text/plain body, line endings normalised to `\n`. */
  body: string;
  headers: { name: string; value: string }[];
  /** The RFC 2822 message as stored, after Gmail stamped From, Date and Message-ID. */
  raw: string;
}

const USER = String.raw`^/gmail/v1/users/([^/]+)`;
const path = (suffix: string) => new RegExp(`${USER}${suffix}$`);
const ok = (body?: unknown): ApiReply => ({ status: body === undefined ? 204 : 200, body });
const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/**
 * A test double of the Gmail API v1 (https://gmail.googleapis.com, shapes from the
 * discovery-generated `@googleapis/gmail` client): messages list/get/send/modify/trash/untrash,
 * drafts create/get/list/update/delete/send, labels list/get/create and getProfile, one mailbox per
 * account, with Google's bearer-token and scope checks. Point the official client at `rootUrl`.
 * Threads, history, attachments and uploads (`/upload/...`) are not modelled.
 */
export class GmailDouble extends GoogleApiDouble {
  /** Messages sent through messages.send or drafts.send, in order. */
  readonly sent: SentGmailMessage[] = [];
  protected readonly serviceName = 'gmail.googleapis.com';
  private readonly mailboxes = new Map<string, Mailbox>();
  private nextId = 0;
  private history = 1000;

  private constructor() {
    super();
  }

  static async start(): Promise<GmailDouble> {
    const double = new GmailDouble();
    await double.listen();
    return double;
  }

  /** Puts a message in a mailbox and answers its id. */
  addMessage(seed: GmailSeedMessage): string {
    const date = seed.date ?? new Date();
    const headers = [
      { name: 'From', value: seed.from },
      { name: 'To', value: seed.to },
      ...(seed.cc === undefined ? [] : [{ name: 'Cc', value: seed.cc }]),
      { name: 'Subject', value: seed.subject },
      { name: 'Date', value: rfc2822Date(date) },
      { name: 'Message-ID', value: newMessageId() },
    ];
    const box = this.box(seed.account ?? DEFAULT_ACCOUNT);
    const stored = this.store(box, composeMessage(headers, seed.body), {
      labelIds: seed.labelIds ?? ['INBOX', 'UNREAD'],
      internalDate: date.getTime(),
    });
    // A seed may start the thread it names, unlike messages.send.
    stored.threadId = seed.threadId ?? stored.id;
    return stored.id;
  }

  /** Creates a user label, as labels.create would, and answers its id. */
  addLabel(name: string, account: string = DEFAULT_ACCOUNT): string {
    return createLabel(this.box(account), { name }).id;
  }

  /** A message as messages.get with format=full answers it, or undefined once deleted. */
  getMessage(id: string, account: string = DEFAULT_ACCOUNT): Record<string, unknown> | undefined {
    const message = this.box(account).messages.get(id);
    return message === undefined ? undefined : render(message, 'full', []);
  }

  protected routes(): readonly ApiRoute[] {
    const route = (
      method: ApiRoute['method'],
      suffix: string,
      operation: string,
      scopes: readonly string[],
      handle: (call: ApiCall, box: Mailbox) => ApiReply,
    ): ApiRoute => ({
      method,
      path: path(suffix),
      operation: `gmail.users.${operation}`,
      scopes,
      handle: (call) => handle(call, this.mailboxOf(call)),
    });
    return [
      route('GET', '/profile', 'getProfile', SCOPES.profile, (c, box) =>
        this.profile(c.grant.account, box),
      ),
      route('GET', '/messages', 'messages.list', SCOPES.read, (c, box) => this.list(c, box)),
      route('POST', '/messages/send', 'messages.send', SCOPES.send, (c, box) => this.send(c, box)),
      route('GET', '/messages/([^/]+)', 'messages.get', SCOPES.read, (c, box) => {
        const wanted = format(c);
        if (metadataOnly(c.grant.scopes) && (wanted === 'full' || wanted === 'raw'))
          throw new GoogleApiError(
            403,
            `Metadata scope doesn't allow format ${wanted.toUpperCase()}`,
            'forbidden',
          );
        return ok(render(message(box, c.params[1]), wanted, c.query.getAll('metadataHeaders')));
      }),
      route('POST', '/messages/([^/]+)/modify', 'messages.modify', SCOPES.change, (c, box) =>
        this.modify(box, message(box, c.params[1]), c.body.addLabelIds, c.body.removeLabelIds),
      ),
      route('POST', '/messages/([^/]+)/trash', 'messages.trash', SCOPES.change, (c, box) =>
        this.trash(message(box, c.params[1]), true),
      ),
      route('POST', '/messages/([^/]+)/untrash', 'messages.untrash', SCOPES.change, (c, box) =>
        this.trash(message(box, c.params[1]), false),
      ),
      route('GET', '/drafts', 'drafts.list', SCOPES.draftsRead, (c, box) => this.drafts(c, box)),
      route('POST', '/drafts', 'drafts.create', SCOPES.draftsWrite, (c, box) =>
        this.saveDraft(box, undefined, c.body.message),
      ),
      route('POST', '/drafts/send', 'drafts.send', SCOPES.draftsWrite, (c, box) =>
        this.sendDraft(c, box),
      ),
      route('GET', '/drafts/([^/]+)', 'drafts.get', SCOPES.draftsRead, (c, box) => {
        const id = draft(box, c.params[1]);
        return ok({ id: c.params[1], message: render(message(box, id), format(c), []) });
      }),
      route('PUT', '/drafts/([^/]+)', 'drafts.update', SCOPES.draftsWrite, (c, box) =>
        this.saveDraft(box, c.params[1], c.body.message),
      ),
      route('DELETE', '/drafts/([^/]+)', 'drafts.delete', SCOPES.draftsWrite, (c, box) => {
        box.messages.delete(draft(box, c.params[1]));
        box.drafts.delete(c.params[1] ?? '');
        return ok();
      }),
      route('GET', '/labels', 'labels.list', SCOPES.labelsRead, (_c, box) =>
        ok({ labels: [...systemLabels(), ...box.labels.values()] }),
      ),
      route('POST', '/labels', 'labels.create', SCOPES.labelsWrite, (c, box) =>
        ok(createLabel(box, c.body)),
      ),
      route('GET', '/labels/([^/]+)', 'labels.get', SCOPES.labelsRead, (c, box) =>
        ok(labelWithCounts(box, c.params[1] ?? '')),
      ),
    ];
  }

  private box(account: string): Mailbox {
    let box = this.mailboxes.get(account);
    if (box === undefined) {
      box = newMailbox();
      this.mailboxes.set(account, box);
    }
    return box;
  }

  /** `me` or the token's own address; Gmail refuses anyone else's mailbox without delegation. */
  private mailboxOf(call: ApiCall): Mailbox {
    const userId = call.params[0] ?? '';
    if (userId !== 'me' && userId.toLowerCase() !== call.grant.account.toLowerCase())
      throw new GoogleApiError(403, `Delegation denied for ${call.grant.account}`, 'forbidden');
    return this.box(call.grant.account);
  }

  private store(
    box: Mailbox,
    raw: string,
    options: { labelIds: string[]; threadId?: string | undefined; internalDate?: number },
  ): StoredMessage {
    this.nextId += 1;
    const id = `18c${this.nextId.toString(16).padStart(13, '0')}`;
    const known = [...box.messages.values()].some((m) => m.threadId === options.threadId);
    const stored: StoredMessage = {
      id,
      // Gmail starts a new thread when asked for one it does not know.
      threadId: known && options.threadId !== undefined ? options.threadId : id,
      labelIds: [...options.labelIds],
      raw,
      payload: parseMessagePart(raw),
      internalDate: options.internalDate ?? Date.now(),
      historyId: this.touch(),
      trashedFromInbox: false,
    };
    box.messages.set(id, stored);
    return stored;
  }

  private touch(): string {
    this.history += 1;
    return String(this.history);
  }

  private profile(account: string, box: Mailbox): ApiReply {
    return ok({
      emailAddress: account,
      messagesTotal: box.messages.size,
      threadsTotal: new Set([...box.messages.values()].map((m) => m.threadId)).size,
      historyId: String(this.history),
    });
  }

  private list(call: ApiCall, box: Mailbox): ApiReply {
    const q = call.query.get('q') ?? '';
    if (q !== '' && metadataOnly(call.grant.scopes))
      throw new GoogleApiError(403, "Metadata scope does not support 'q' parameter", 'forbidden');
    const labelIds = call.query.getAll('labelIds');
    const search = compileSearch(q, (name) => labelIdOf(box, name));
    // Like Gmail, a listing leaves out spam and trash unless asked to look there.
    const spamTrashToo =
      call.query.get('includeSpamTrash') === 'true' ||
      search.includesSpamTrash ||
      labelIds.some((id) => id === 'SPAM' || id === 'TRASH');
    const found = newestFirst(box).filter(
      (m) =>
        labelIds.every((id) => m.labelIds.includes(id)) &&
        (spamTrashToo || !m.labelIds.some((id) => id === 'SPAM' || id === 'TRASH')) &&
        search.matches(m),
    );
    const page = paginate(found, call.query.get('pageToken'), pageSize(call.query, 100, 500));
    return ok({
      ...(page.items.length === 0
        ? {}
        : { messages: page.items.map((m) => ({ id: m.id, threadId: m.threadId })) }),
      ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
      resultSizeEstimate: found.length,
    });
  }

  private send(call: ApiCall, box: Mailbox): ApiReply {
    const raw = decodeRaw(call.body.raw);
    const threadId = typeof call.body.threadId === 'string' ? call.body.threadId : undefined;
    const sent = this.store(box, this.stamp(call.grant.account, raw), {
      labelIds: ['SENT'],
      threadId,
    });
    this.recordSent(call.grant.account, sent);
    return ok(summary(sent));
  }

  /** Checks a recipient is named and sets From, Date and Message-ID as Gmail does on sending. */
  private stamp(account: string, raw: string): string {
    const headers = parseMessagePart(raw).headers;
    if (!['To', 'Cc', 'Bcc'].some((name) => (header(headers, name) ?? '').trim() !== ''))
      throw new GoogleApiError(400, 'Recipient address required', 'invalidArgument');
    const from = header(headers, 'From');
    return withHeaders(raw, [
      // Without a verified send-as alias Gmail sends from the account whatever From said.
      { name: 'From', value: from !== undefined && addressOf(from) === account ? from : account },
      { name: 'Date', value: header(headers, 'Date') ?? rfc2822Date(new Date()) },
      { name: 'Message-ID', value: header(headers, 'Message-ID') ?? newMessageId() },
    ]);
  }

  private recordSent(account: string, message: StoredMessage): void {
    const get = (name: string) => header(message.payload.headers, name);
    this.sent.push({
      id: message.id,
      threadId: message.threadId,
      account,
      from: get('From') ?? '',
      to: get('To') ?? '',
      cc: get('Cc'),
      bcc: get('Bcc'),
      subject: get('Subject') ?? '',
      body: plainText(message.payload),
      headers: message.payload.headers,
      raw: message.raw,
    });
  }

  private modify(box: Mailbox, message: StoredMessage, add: unknown, remove: unknown): ApiReply {
    const adding = stringList(add);
    const removing = stringList(remove);
    for (const id of [...adding, ...removing])
      if (!isLabel(box, id))
        throw new GoogleApiError(400, `Invalid label: ${id}`, 'invalidArgument');
    message.labelIds = [
      ...message.labelIds.filter((id) => !removing.includes(id)),
      ...adding.filter((id) => !message.labelIds.includes(id) && !removing.includes(id)),
    ];
    message.historyId = this.touch();
    return ok(summary(message));
  }

  /** Trash takes a message out of the inbox; untrash puts it back where it was. */
  private trash(message: StoredMessage, trashing: boolean): ApiReply {
    const others = message.labelIds.filter((id) => id !== 'TRASH' && id !== 'INBOX');
    if (trashing) {
      if (!message.labelIds.includes('TRASH'))
        message.trashedFromInbox = message.labelIds.includes('INBOX');
      message.labelIds = [...others, 'TRASH'];
    } else if (message.labelIds.includes('TRASH')) {
      message.labelIds = message.trashedFromInbox ? [...others, 'INBOX'] : others;
      message.trashedFromInbox = false;
    }
    message.historyId = this.touch();
    return ok(summary(message));
  }

  private drafts(call: ApiCall, box: Mailbox): ApiReply {
    const all = [...box.drafts].reverse();
    const page = paginate(all, call.query.get('pageToken'), pageSize(call.query, 100, 500));
    return ok({
      ...(page.items.length === 0
        ? {}
        : {
            drafts: page.items.map(([id, messageId]) => ({
              id,
              message: summary(message(box, messageId)),
            })),
          }),
      ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
      resultSizeEstimate: all.length,
    });
  }

  /** Creates a draft, or replaces its message (Gmail gives the new content a new message id). */
  private saveDraft(box: Mailbox, draftId: string | undefined, resource: unknown): ApiReply {
    const previous = draftId === undefined ? undefined : message(box, draft(box, draftId));
    const fields = typeof resource === 'object' && resource !== null ? resource : {};
    const raw = decodeRaw((fields as { raw?: unknown }).raw);
    const threadId = (fields as { threadId?: unknown }).threadId;
    const stored = this.store(box, raw, {
      labelIds: ['DRAFT'],
      threadId: typeof threadId === 'string' ? threadId : previous?.threadId,
    });
    if (previous !== undefined) box.messages.delete(previous.id);
    const id = draftId ?? `r${randomBytes(8).readBigUInt64BE().toString()}`;
    box.drafts.set(id, stored.id);
    return ok({ id, message: summary(stored) });
  }

  private sendDraft(call: ApiCall, box: Mailbox): ApiReply {
    const draftId = typeof call.body.id === 'string' ? call.body.id : '';
    if (draftId === '') throw new GoogleApiError(400, 'Invalid draft', 'invalidArgument');
    const replacement = (call.body.message as { raw?: unknown } | undefined)?.raw;
    if (replacement !== undefined) this.saveDraft(box, draftId, call.body.message);
    const stored = message(box, draft(box, draftId));
    stored.raw = this.stamp(call.grant.account, stored.raw);
    stored.payload = parseMessagePart(stored.raw);
    stored.labelIds = [...stored.labelIds.filter((id) => id !== 'DRAFT'), 'SENT'];
    stored.internalDate = Date.now();
    stored.historyId = this.touch();
    box.drafts.delete(draftId);
    this.recordSent(call.grant.account, stored);
    return ok(summary(stored));
  }
}

function metadataOnly(scopes: readonly string[]): boolean {
  return !scopes.some((scope) => scope !== METADATA && SCOPES.read.includes(scope));
}

function format(call: ApiCall): string {
  const value = call.query.get('format') ?? 'full';
  if (!['full', 'metadata', 'minimal', 'raw'].includes(value))
    throw new GoogleApiError(400, `Invalid value at 'format' (${value})`, 'invalidArgument');
  return value;
}

function decodeRaw(raw: unknown): string {
  if (typeof raw !== 'string' || raw === '')
    throw new GoogleApiError(
      400,
      "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
      'invalidArgument',
    );
  // Node's base64 decoder reads the URL-safe alphabet too, as Gmail does.
  return Buffer.from(raw, 'base64').toString('utf8');
}

function rfc2822Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function newMessageId(): string {
  return `<${randomBytes(12).toString('hex')}@mail.gmail.com>`;
}
