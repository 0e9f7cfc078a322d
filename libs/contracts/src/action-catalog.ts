import { z } from 'zod';
import { GOOGLE_SCOPE_BUNDLES } from './gateway-http.js';

/**
 * The action catalog: every action the agent may ask for, with its parameter schema, the result
 * the agent gets back (only what it asked for), the OAuth scopes it needs, its class and how it is
 * undone. The gateway executes nothing that is not here; the policy reasons over these classes
 * and over the facts each action's parameters reveal (recipients, amounts, calendars).
 */

/** read: no side effect. reversible: a side effect HeroAgent can take back. irreversible: cannot. */
export const ACTION_CLASSES = ['read', 'reversible', 'irreversible'] as const;
export type ActionClass = (typeof ACTION_CLASSES)[number];

/** How an action is undone, said before it is approved. */
export type UndoStrategy =
  | { readonly kind: 'none'; readonly reason: string }
  /** A compensating call through the same path, from state saved when the action ran. */
  | { readonly kind: 'compensate'; readonly description: string }
  /** Held in an outbox for the undo window; undo cancels it before it leaves. */
  | { readonly kind: 'cancel-before-release'; readonly description: string };

/** What an action's parameters tell the policy and the capability's limits. */
export interface ActionFacts {
  /** Every address the action writes to (To, Cc, Bcc, attendees), lower-cased. */
  readonly recipients: readonly string[];
  /** Their domains, lower-cased, without duplicates. */
  readonly recipientDomains: readonly string[];
  /** The calendar the action reads or writes, if any. */
  readonly calendarId?: string;
  /** Money the action spends, in minor units of `currency` (cents). */
  readonly amount?: { readonly minor: number; readonly currency: string };
}

export interface ActionDefinition<
  TType extends string = string,
  TParams extends z.ZodType = z.ZodType,
  TResult extends z.ZodType = z.ZodType,
> {
  readonly type: TType;
  readonly summary: string;
  /** Whose API it calls; `merchant` actions go through a merchant connector. */
  readonly provider: 'google' | 'merchant';
  readonly class: ActionClass;
  readonly params: TParams;
  readonly result: TResult;
  /** Any one of these OAuth scopes on the connection lets the action run. */
  readonly scopes: readonly string[];
  readonly undo: UndoStrategy;
  facts(params: z.output<TParams>): ActionFacts;
}

function defineAction<TType extends string, TParams extends z.ZodType, TResult extends z.ZodType>(
  definition: ActionDefinition<TType, TParams, TResult>,
): ActionDefinition<TType, TParams, TResult> {
  return Object.freeze(definition);
}

const S = GOOGLE_SCOPE_BUNDLES;
const GMAIL_READ = [S['gmail.read'], S['gmail.modify']];
const GMAIL_MODIFY = [S['gmail.modify']];
const GMAIL_SEND = [S['gmail.send'], S['gmail.modify']];
const CALENDAR_READ = [S['calendar.read'], S['calendar.events']];
const CALENDAR_WRITE = [S['calendar.events']];

const email = z.email().max(320).toLowerCase();
const recipients = z.array(email).max(50);
const messageId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a message id');
const eventId = z.string().regex(/^[A-Za-z0-9_-]{1,1024}$/, 'is not an event id');
const calendarId = z.string().min(1).max(320).default('primary');
const labelId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a label id');
const subject = z.string().max(998);
const body = z.string().max(100_000);
const time = z.iso.datetime({ offset: true });
const eventTime = z.union([
  z.strictObject({ dateTime: time, timeZone: z.string().max(64).optional() }),
  z.strictObject({ date: z.iso.date() }),
]);

function noFacts(): ActionFacts {
  return { recipients: [], recipientDomains: [] };
}

/** Facts of an action that writes to these addresses. */
export function recipientFacts(addresses: readonly string[], calendar?: string): ActionFacts {
  const lower = [...new Set(addresses.map((address) => address.toLowerCase()))];
  return {
    recipients: lower,
    recipientDomains: [
      ...new Set(lower.map((address) => address.slice(address.lastIndexOf('@') + 1))),
    ],
    ...(calendar === undefined ? {} : { calendarId: calendar }),
  };
}

/** The message fields the agent may ask for; it gets those and nothing else. */
export const MESSAGE_FIELDS = [
  'from',
  'to',
  'cc',
  'subject',
  'date',
  'snippet',
  'body',
  'labels',
] as const;

const messageSummary = z.object({
  id: z.string(),
  threadId: z.string(),
  from: z.string().optional(),
  subject: z.string().optional(),
  date: z.string().optional(),
  snippet: z.string().optional(),
});

/** The event fields beyond the summary that a listing returns only when asked. */
export const EVENT_FIELDS = ['description', 'attendees', 'organizer'] as const;

const eventSummary = z.object({
  id: z.string(),
  summary: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  location: z.string().optional(),
  /** Their addresses when asked for, otherwise how many there are. */
  attendees: z.union([z.number().int(), z.array(z.string())]).optional(),
  description: z.string().optional(),
  organizer: z.string().optional(),
});

// ---- Gmail ------------------------------------------------------------------------------------

export const searchMessages = defineAction({
  type: 'gmail.messages.search',
  summary: 'Lists or searches messages (Gmail search syntax).',
  provider: 'google',
  class: 'read',
  params: z.strictObject({
    query: z.string().max(500).default(''),
    labelIds: z.array(labelId).max(10).optional(),
    maxResults: z.number().int().min(1).max(50).default(10),
    pageToken: z.string().max(256).optional(),
  }),
  result: z.object({ messages: z.array(messageSummary), nextPageToken: z.string().optional() }),
  scopes: GMAIL_READ,
  undo: { kind: 'none', reason: 'reading changes nothing' },
  facts: noFacts,
});

export const readMessage = defineAction({
  type: 'gmail.messages.read',
  summary: 'Reads one message: only the fields asked for.',
  provider: 'google',
  class: 'read',
  params: z.strictObject({
    messageId,
    fields: z
      .array(z.enum(MESSAGE_FIELDS))
      .min(1)
      .max(MESSAGE_FIELDS.length)
      .default(['from', 'subject', 'date', 'snippet']),
  }),
  result: z.object({ id: z.string() }).catchall(z.union([z.string(), z.array(z.string())])),
  scopes: GMAIL_READ,
  undo: { kind: 'none', reason: 'reading changes nothing' },
  facts: noFacts,
});

const outgoing = {
  to: recipients.min(1),
  cc: recipients.default([]),
  bcc: recipients.default([]),
  subject,
  body,
};

export const createDraft = defineAction({
  type: 'gmail.drafts.create',
  summary: 'Writes a draft (not sent).',
  provider: 'google',
  class: 'reversible',
  params: z.strictObject(outgoing),
  result: z.object({ draftId: z.string(), messageId: z.string() }),
  scopes: GMAIL_MODIFY,
  undo: { kind: 'compensate', description: 'deletes the draft' },
  facts: (params) => recipientFacts([...params.to, ...params.cc, ...params.bcc]),
});

export const sendMessage = defineAction({
  type: 'gmail.messages.send',
  summary: 'Sends a message, after the undo window during which it can be cancelled.',
  provider: 'google',
  class: 'irreversible',
  params: z.strictObject({ ...outgoing, inReplyTo: messageId.optional() }),
  result: z.object({ outboxId: z.uuid(), sendsAt: time }),
  scopes: GMAIL_SEND,
  undo: {
    kind: 'cancel-before-release',
    description: 'held in the outbox for the undo window; once it has left, it cannot be unsent',
  },
  facts: (params) => recipientFacts([...params.to, ...params.cc, ...params.bcc]),
});

export const labelMessage = defineAction({
  type: 'gmail.messages.label',
  summary: 'Adds and removes labels on a message.',
  provider: 'google',
  class: 'reversible',
  params: z
    .strictObject({
      messageId,
      add: z.array(labelId).max(20).default([]),
      remove: z.array(labelId).max(20).default([]),
    })
    .refine((p) => p.add.length + p.remove.length > 0, 'add or remove at least one label'),
  result: z.object({ id: z.string(), labelIds: z.array(z.string()) }),
  scopes: GMAIL_MODIFY,
  undo: { kind: 'compensate', description: 'restores the labels it had' },
  facts: noFacts,
});

export const archiveMessage = defineAction({
  type: 'gmail.messages.archive',
  summary: 'Archives a message (removes it from the inbox).',
  provider: 'google',
  class: 'reversible',
  params: z.strictObject({ messageId }),
  result: z.object({ id: z.string(), labelIds: z.array(z.string()) }),
  scopes: GMAIL_MODIFY,
  undo: { kind: 'compensate', description: 'puts it back in the inbox' },
  facts: noFacts,
});

export const trashMessage = defineAction({
  type: 'gmail.messages.trash',
  summary: 'Moves a message to the trash.',
  provider: 'google',
  class: 'reversible',
  params: z.strictObject({ messageId }),
  result: z.object({ id: z.string(), labelIds: z.array(z.string()) }),
  scopes: GMAIL_MODIFY,
  undo: { kind: 'compensate', description: 'takes it out of the trash' },
  facts: noFacts,
});

// ---- Calendar ---------------------------------------------------------------------------------

export const listEvents = defineAction({
  type: 'calendar.events.list',
  summary:
    'Lists events in a time window: times, summaries and locations; descriptions, attendees and the organizer only when asked for.',
  provider: 'google',
  class: 'read',
  params: z.strictObject({
    calendarId,
    timeMin: time,
    timeMax: time,
    query: z.string().max(200).optional(),
    maxResults: z.number().int().min(1).max(100).default(25),
    /** Also return these: descriptions, attendees' addresses, the organizer (only if asked). */
    fields: z.array(z.enum(EVENT_FIELDS)).max(EVENT_FIELDS.length).default([]),
  }),
  result: z.object({ events: z.array(eventSummary) }),
  scopes: CALENDAR_READ,
  undo: { kind: 'none', reason: 'reading changes nothing' },
  facts: (params) => ({ ...noFacts(), calendarId: params.calendarId }),
});

export const freeBusy = defineAction({
  type: 'calendar.freebusy',
  summary: 'When calendars are busy in a time window.',
  provider: 'google',
  class: 'read',
  params: z.strictObject({
    timeMin: time,
    timeMax: time,
    calendars: z.array(z.string().min(1).max(320)).min(1).max(20).default(['primary']),
  }),
  result: z.object({
    calendars: z.record(z.string(), z.array(z.object({ start: z.string(), end: z.string() }))),
  }),
  scopes: CALENDAR_READ,
  undo: { kind: 'none', reason: 'reading changes nothing' },
  facts: noFacts,
});

const eventFields = {
  summary: z.string().max(1024),
  description: z.string().max(8192).optional(),
  location: z.string().max(1024).optional(),
  start: eventTime,
  end: eventTime,
  attendees: recipients.default([]),
};

export const createEvent = defineAction({
  type: 'calendar.events.create',
  summary: 'Creates an event (and invites its attendees).',
  provider: 'google',
  class: 'reversible',
  params: z.strictObject({ calendarId, ...eventFields }),
  result: z.object({ eventId: z.string(), htmlLink: z.string().optional() }),
  scopes: CALENDAR_WRITE,
  undo: { kind: 'compensate', description: 'deletes the event it created' },
  facts: (params) => recipientFacts(params.attendees, params.calendarId),
});

export const updateEvent = defineAction({
  type: 'calendar.events.update',
  summary: 'Changes an event.',
  provider: 'google',
  class: 'reversible',
  params: z.strictObject({
    calendarId,
    eventId,
    changes: z
      .strictObject({
        summary: eventFields.summary.optional(),
        description: eventFields.description,
        location: eventFields.location,
        start: eventTime.optional(),
        end: eventTime.optional(),
        attendees: recipients.optional(),
      })
      .refine((changes) => Object.keys(changes).length > 0, 'change at least one field'),
  }),
  result: z.object({ eventId: z.string() }),
  scopes: CALENDAR_WRITE,
  undo: { kind: 'compensate', description: 'restores the event as it was' },
  facts: (params) => recipientFacts(params.changes.attendees ?? [], params.calendarId),
});

export const deleteEvent = defineAction({
  type: 'calendar.events.delete',
  summary: 'Deletes an event.',
  provider: 'google',
  class: 'reversible',
  params: z.strictObject({ calendarId, eventId }),
  result: z.object({ eventId: z.string() }),
  scopes: CALENDAR_WRITE,
  undo: { kind: 'compensate', description: 'recreates the event as it was' },
  facts: (params) => ({ ...noFacts(), calendarId: params.calendarId }),
});

// ---- Purchases --------------------------------------------------------------------------------

export const purchase = defineAction({
  type: 'purchase.create',
  summary: 'Buys something through a merchant connector, within the spend limits.',
  provider: 'merchant',
  class: 'irreversible',
  params: z.strictObject({
    merchant: z.string().regex(/^[a-z0-9-]{1,64}$/, 'is not a merchant id'),
    item: z.string().min(1).max(500),
    quantity: z.number().int().min(1).max(1000).default(1),
    /** Total, in minor units of the currency (cents). */
    amountMinor: z.number().int().min(1).max(100_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/, 'is not an ISO 4217 currency code'),
  }),
  result: z.object({ orderId: z.string(), amountMinor: z.number().int(), currency: z.string() }),
  scopes: [],
  undo: {
    kind: 'none',
    reason: 'a purchase cannot be taken back by HeroAgent; refunds are the merchant’s',
  },
  facts: (params) => ({
    ...noFacts(),
    amount: { minor: params.amountMinor, currency: params.currency },
  }),
});

/** Every action, by type. */
export const ACTION_CATALOG = Object.freeze(
  Object.fromEntries(
    [
      searchMessages,
      readMessage,
      createDraft,
      sendMessage,
      labelMessage,
      archiveMessage,
      trashMessage,
      listEvents,
      freeBusy,
      createEvent,
      updateEvent,
      deleteEvent,
      purchase,
    ].map((action) => [action.type, action as ActionDefinition]),
  ),
) as Readonly<Record<string, ActionDefinition>>;

/** The definition of an action type, or undefined if the catalog has no such action. */
export function actionDefinition(type: string): ActionDefinition | undefined {
  return Object.hasOwn(ACTION_CATALOG, type) ? ACTION_CATALOG[type] : undefined;
}
