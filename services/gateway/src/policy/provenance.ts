import type { ActionDefinition } from '@heroagent/contracts';
import type { UntrustedValue } from './untrusted-input.js';

/**
 * Provenance, decided by the gateway and never by the agent (DESIGN.md): the gateway performed
 * every read of a task and keeps the person's own words, so it can tell which values of a write
 * came from the person and which did not. Pure: the caller reads the task's words and what its
 * reads returned.
 *
 * - A recipient, attendee, calendar, merchant or amount is the person's when they named it (in
 *   their request, or in the task's recipient limit) or when it is their own address; any other
 *   value is not — first seen in content, or made up.
 * - A message or event a write acts on (trash, archive, label, change, delete) is the person's
 *   when it is one the task read and the request points at it: by its sender or an attendee, or
 *   by a word of its title or sender's name. An id never listed by a read is not.
 * - Text a write sends to someone other than the person (a body, a subject, an invitation's
 *   description) must not carry content the person did not point at: a run of words copied from
 *   such a message or event, or a distinctive token from it (a code, a long number, an address,
 *   a link). A link is the person's only when they gave it or it came from content they pointed
 *   at.
 * A task without words (an API client driving its own capability) has no request to compare
 * with: its client is the person's own, and only what it declares is held.
 */

/** A message or an event, as the task's reads returned it. */
export interface ContentItem {
  readonly kind: 'message' | 'event';
  readonly id: string;
  /** Senders or organisers, as the headers say them (`Name <address>`). */
  readonly from: readonly string[];
  /** Other addresses on it: To, Cc, attendees. */
  readonly participants: readonly string[];
  /** Subjects and summaries. */
  readonly titles: readonly string[];
  /** Snippets, bodies, descriptions, locations. */
  readonly texts: readonly string[];
}

/** What the gateway knows of a task when one of its writes is decided. */
export interface TaskContent {
  /** The person's own words; null when an API client drives the task. */
  readonly request: string | null;
  /** The person's own addresses: the connected account's and their sign-in address. */
  readonly ownAddresses: readonly string[];
  /** The recipients the person allowed when starting the task (its recipient limit). */
  readonly namedRecipients: readonly string[];
  /** Everything the task's reads returned. */
  readonly items: readonly ContentItem[];
}

const EMAIL = /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/gi;
const LINK = /\bhttps?:\/\/[^\s<>"')\]]+/gi;
// Words that point at nothing in particular: they never make a message "the one meant".
const VAGUE = new Set(
  `about after again all also and any are back been before being below between both but can
  could did does doing down during each email emails event events find for from further had has
  have having her here hers him his how inbox into its just last latest mail mails meeting
  meetings message messages more most next not now off once only other our out over own please
  same she should some such than that the their them then there these they this those through
  today tomorrow too under until very was week were what when where which while who whom why
  will with would you your yours yesterday calendar send reply forward archive trash label
  delete remove cancel move schedule invite create update change tell write draft read check
  find look show summarise summarize buy order purchase`.split(/\s+/),
);

const lower = (value: string) => value.toLowerCase();

/** Whether `text` names `value` as a whole (so `bob@x.io` is not found in `bob@x.io.evil`). */
export function mentions(text: string, value: string): boolean {
  const needle = lower(value);
  const haystack = lower(text);
  if (needle.length === 0) return false;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
    const before = at === 0 ? '' : haystack[at - 1]!;
    const after = haystack.slice(at + needle.length, at + needle.length + 2);
    if (
      !/[\p{L}\p{N}@._%+-]/u.test(before) &&
      !/^[\p{L}\p{N}@_-]/u.test(after) &&
      !/^\.[\p{L}\p{N}]/u.test(after)
    ) {
      return true;
    }
  }
  return false;
}

function addressesIn(text: string): string[] {
  return [...text.matchAll(EMAIL)].map((match) => lower(match[0]));
}

/** The words of a text, lower-cased. */
function words(text: string): string[] {
  return lower(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** The request's words that could point at one message or event. */
function pointingWords(request: string): Set<string> {
  return new Set(words(request).filter((word) => word.length >= 3 && !VAGUE.has(word)));
}

/** Distinctive tokens: long numbers, codes mixing letters and digits, addresses, links. */
function distinctiveTokens(text: string): Set<string> {
  const found = new Set<string>();
  for (const match of text.matchAll(LINK)) found.add(lower(match[0]));
  for (const address of addressesIn(text)) found.add(address);
  for (const token of text.match(/[\p{L}\p{N}]+/gu) ?? []) {
    const digits = token.replace(/\D/g, '').length;
    if (/^\d{5,}$/.test(token) || (token.length >= 8 && digits >= 2 && digits < token.length)) {
      found.add(lower(token));
    }
  }
  return found;
}

/** Runs of eight words, the shortest copy that is not a common phrase. */
function shingles(text: string): Set<string> {
  const list = words(text);
  const found = new Set<string>();
  for (let i = 0; i + 8 <= list.length; i += 1) found.add(list.slice(i, i + 8).join(' '));
  return found;
}

function describe(item: ContentItem): string {
  const from = item.from[0];
  const title = item.titles[0];
  const what = item.kind === 'message' ? 'a mail' : 'an event';
  return [
    what,
    from === undefined ? '' : ` from ${from}`,
    title === undefined ? '' : ` ("${title}")`,
  ]
    .join('')
    .slice(0, 160);
}

/** The provenance of one task's values: built once per write from what the gateway read. */
export class Provenance {
  private readonly request: string;
  private readonly own: ReadonlySet<string>;
  private readonly named: ReadonlySet<string>;
  private readonly pointing: ReadonlySet<string>;
  private readonly referred: ReadonlySet<ContentItem>;

  constructor(private readonly content: TaskContent & { readonly request: string }) {
    this.request = content.request;
    this.own = new Set(content.ownAddresses.map(lower));
    this.named = new Set(content.namedRecipients.map(lower));
    this.pointing = pointingWords(content.request);
    this.referred = new Set(content.items.filter((item) => this.pointsAt(item)));
  }

  /** The values of a write that did not come from the person; none for a read. */
  untrusted(definition: ActionDefinition, params: Record<string, unknown>): UntrustedValue[] {
    if (definition.class === 'read') return [];
    const found: UntrustedValue[] = [];
    const recipients: string[] = [];
    for (const path of ['to', 'cc', 'bcc', 'attendees', 'changes.attendees']) {
      for (const address of strings(valueAt(params, path))) {
        recipients.push(lower(address));
        if (!this.isPersons(address)) found.push({ param: path, why: this.whyAddress(address) });
      }
    }
    const calendarId = params['calendarId'];
    if (typeof calendarId === 'string' && !this.isCalendarOfPerson(calendarId)) {
      found.push({ param: 'calendarId', why: `the calendar ${calendarId} is not one you named` });
    }
    if (typeof params['merchant'] === 'string') {
      const merchant = params['merchant'];
      if (
        !mentions(this.request, merchant) &&
        !mentions(this.request, merchant.replaceAll('-', ' '))
      ) {
        found.push({ param: 'merchant', why: `you did not name the merchant ${merchant}` });
      }
    }
    if (typeof params['amountMinor'] === 'number' && !this.amountNamed(params['amountMinor'])) {
      found.push({ param: 'amountMinor', why: 'you did not name this amount' });
    }
    for (const path of ['messageId', 'eventId']) {
      const id = params[path];
      if (typeof id === 'string') {
        const why = this.whyTarget(id, path === 'messageId' ? 'message' : 'event');
        if (why !== undefined) found.push({ param: path, why });
      }
    }
    // Text that leaves: to someone other than the person, not kept in their own mailbox.
    const outsiders = recipients.filter((address) => !this.own.has(address));
    const leaves = definition.type !== 'gmail.drafts.create' && outsiders.length > 0;
    for (const path of [
      'subject',
      'body',
      'summary',
      'description',
      'location',
      'changes.summary',
      'changes.description',
      'changes.location',
    ]) {
      const text = valueAt(params, path);
      if (typeof text !== 'string' || text.length === 0) continue;
      const why = this.whyText(text, leaves);
      if (why !== undefined) found.push({ param: path, why });
    }
    return found;
  }

  private isPersons(address: string): boolean {
    const value = lower(address);
    return this.own.has(value) || this.named.has(value) || mentions(this.request, value);
  }

  private isCalendarOfPerson(calendarId: string): boolean {
    return (
      calendarId === 'primary' ||
      this.own.has(lower(calendarId)) ||
      mentions(this.request, calendarId)
    );
  }

  /** "25", "25.00", "25,00" or "$25" in the request names 2500 minor units; "2500" alone does not. */
  private amountNamed(minor: number): boolean {
    for (const match of this.request.matchAll(/\d+(?:[.,]\d{1,2})?/g)) {
      if (Math.round(Number(match[0].replace(',', '.')) * 100) === minor) return true;
    }
    return false;
  }

  private whyAddress(address: string): string {
    const value = lower(address);
    const seen = this.content.items.find((item) =>
      [...item.from, ...item.participants, ...item.titles, ...item.texts].some((text) =>
        addressesIn(text).includes(value),
      ),
    );
    return seen === undefined
      ? `you did not name ${value}`
      : `you did not name ${value}; it was first seen in ${describe(seen)}`;
  }

  private whyTarget(id: string, kind: ContentItem['kind']): string | undefined {
    const item = this.content.items.find(
      (candidate) => candidate.kind === kind && candidate.id === id,
    );
    if (item === undefined) return `the ${kind} ${id.slice(0, 64)} is not one the task found`;
    if (this.referred.has(item)) return undefined;
    return `nothing in your request points at ${describe(item)}`;
  }

  /**
   * Why text does not come from the person: it carries a link they did not give or point at, or
   * (when it leaves) a copy of content they did not point at.
   */
  private whyText(text: string, leaves: boolean): string | undefined {
    for (const link of text.match(LINK) ?? []) {
      if (mentions(this.request, link)) continue;
      const from = this.content.items.find((item) =>
        itemText(item).toLowerCase().includes(lower(link)),
      );
      if (from === undefined) return `a link you did not give (${link.slice(0, 80)})`;
      if (!this.referred.has(from)) return `a link first seen in ${describe(from)}`;
    }
    if (!leaves) return undefined;
    const tokens = distinctiveTokens(text);
    const runs = shingles(text);
    for (const item of this.content.items) {
      if (this.referred.has(item)) continue;
      const source = itemText(item);
      const token = [...distinctiveTokens(source)].find(
        (candidate) => tokens.has(candidate) && !mentions(this.request, candidate),
      );
      if (token !== undefined) return `it carries "${token.slice(0, 40)}" from ${describe(item)}`;
      const copied = [...shingles(source)].find((run) => runs.has(run));
      if (copied !== undefined) return `it copies text from ${describe(item)}`;
    }
    return undefined;
  }

  /** Whether the request points at this message or event. */
  private pointsAt(item: ContentItem): boolean {
    for (const header of [...item.from, ...item.participants]) {
      for (const address of addressesIn(header)) {
        // The person is on most of their own mail: that points at nothing.
        if (this.own.has(address)) continue;
        if (mentions(this.request, address) || this.named.has(address)) return true;
        if (mentions(this.request, address.slice(address.indexOf('@') + 1))) return true;
      }
    }
    const names = [...item.titles, ...item.from.map((header) => header.replace(EMAIL, ' '))];
    return names.some((text) => words(text).some((word) => this.pointing.has(word)));
  }
}

function itemText(item: ContentItem): string {
  return [...item.from, ...item.participants, ...item.titles, ...item.texts].join('\n');
}

function valueAt(params: Record<string, unknown>, path: string): unknown {
  let current: unknown = params;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** The messages and events in what a task's reads returned (stored results, by action type). */
export function contentItems(reads: readonly { type: string; result: unknown }[]): ContentItem[] {
  const items = new Map<string, ContentItem>();
  const add = (item: ContentItem) => {
    const key = `${item.kind}:${item.id}`;
    const known = items.get(key);
    items.set(
      key,
      known === undefined
        ? item
        : {
            ...known,
            from: [...known.from, ...item.from],
            participants: [...known.participants, ...item.participants],
            titles: [...known.titles, ...item.titles],
            texts: [...known.texts, ...item.texts],
          },
    );
  };
  for (const read of reads) {
    const result = (
      typeof read.result === 'object' && read.result !== null ? read.result : {}
    ) as Record<string, unknown>;
    if (read.type === 'gmail.messages.search') {
      for (const message of records(result['messages'])) add(messageItem(message));
    } else if (read.type === 'gmail.messages.read') {
      add(messageItem(result));
    } else if (read.type === 'calendar.events.list') {
      for (const event of records(result['events'])) {
        add({
          kind: 'event',
          id: text(event['id']),
          from: strings(event['organizer']),
          participants: strings(event['attendees']),
          titles: strings(event['summary']),
          texts: [...strings(event['description']), ...strings(event['location'])],
        });
      }
    }
  }
  return [...items.values()].filter((item) => item.id !== '');
}

function messageItem(message: Record<string, unknown>): ContentItem {
  return {
    kind: 'message',
    id: text(message['id']),
    from: strings(message['from']),
    participants: [...strings(message['to']), ...strings(message['cc'])],
    titles: strings(message['subject']),
    texts: [...strings(message['snippet']), ...strings(message['body'])],
  };
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value)
    ? value.filter(
        (item): item is Record<string, unknown> => typeof item === 'object' && item !== null,
      )
    : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
