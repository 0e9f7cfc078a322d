import type { ActionDefinition } from '@heroagent/contracts';
import {
  addresseeNames,
  addressesIn,
  distinctiveTokens,
  folded,
  EMAIL,
  LINK,
  lower,
  mentions,
  moneyIn,
  pointingStems,
  shingles,
  stem,
  timeOfDay,
  timesIn,
  words,
} from './provenance-text.js';
import type { UntrustedValue } from './untrusted-input.js';

/**
 * Provenance, decided by the gateway and never by the agent (DESIGN.md): the gateway performed
 * every read of a task and keeps the person's own words, so it can tell which values of a write
 * came from the person and which did not. Pure: the caller reads the task's words and what its
 * reads returned.
 *
 * - A recipient, attendee, calendar or merchant is the person's when they named it (in their
 *   request, or in the task's recipient limit), when it is their own address, or when they named
 *   its owner by name and exactly one address on content they pointed at goes by that name. An
 *   event being changed keeps the attendees it has. An amount is the person's when they named it
 *   as money, or it is within a ceiling they named ("up to $30").
 * - A message or event a write acts on (trash, archive, label, change, delete) is the person's
 *   when one of the task's reads listed it and the request points at it: by its sender or an
 *   attendee, their domain, a word of its title or sender's name, or the time it starts.
 * - Text a write sends to someone other than the person (a body, a subject, an invitation's
 *   description) must not carry content the person did not point at: a run of words copied from
 *   such a message or event, or a distinctive token from it (a code, a long number, an address).
 * - A link in anything a write says is the person's only when they gave it, or when they asked
 *   to pass a link on (forward a mail, send its link) and it is the only link of content they
 *   pointed at — a second link planted beside the one they meant is not.
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
  /** When an event starts (ISO 8601), if listed. */
  readonly start?: string;
  /** The calendar an event was listed from. */
  readonly calendarId?: string;
}

/** A search of the mailbox the task made: what it asked, and whether it saw every match. */
export interface MailSearch {
  readonly query: string;
  /** No further page: every message matching the query was returned. */
  readonly complete: boolean;
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
  /** The searches of the mailbox the task made. */
  readonly searches: readonly MailSearch[];
  /** The person's time zone, for the times they name ("my 3pm"); UTC when not known. */
  readonly timeZone?: string | undefined;
}

// Asking to pass a link on: forwarding something ("forward the invoice", not "look forward to"),
// or the link itself ("send Bob the agenda link").
const PASSES_ON =
  /(?<!\blook(?:ing)?\s)\bforward(?:ed|ing)?\b(?!\s+to\s+(?:it|seeing|meeting|hearing|the\s+\w+ing))|\bfwd\b|\b(?:links?|urls?)\b/i;

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
  private readonly addressees: ReadonlySet<string>;
  private readonly times: ReadonlySet<number>;
  private readonly referred: ReadonlySet<ContentItem>;
  private readonly money: ReturnType<typeof moneyIn>;

  constructor(private readonly content: TaskContent & { readonly request: string }) {
    this.request = content.request;
    this.own = new Set(content.ownAddresses.map(lower));
    this.named = new Set(content.namedRecipients.map(lower));
    this.pointing = pointingStems(content.request);
    this.addressees = addresseeNames(content.request);
    this.times = timesIn(content.request);
    this.money = moneyIn(content.request);
    this.referred = new Set(content.items.filter((item) => this.pointsAt(item)));
  }

  /** The values of a write that did not come from the person; none for a read. */
  untrusted(definition: ActionDefinition, params: Record<string, unknown>): UntrustedValue[] {
    if (definition.class === 'read') return [];
    const found: UntrustedValue[] = [];
    const recipients: string[] = [];
    // An event being changed keeps the attendees it has: resending them is not adding them (and
    // what the change says reaches them).
    const kept = this.attendeesOf(params['calendarId'], params['eventId']);
    recipients.push(...kept);
    for (const path of ['to', 'cc', 'bcc', 'attendees', 'changes.attendees']) {
      for (const address of strings(valueAt(params, path))) {
        recipients.push(lower(address));
        if (this.isPersons(address) || kept.includes(lower(address))) continue;
        found.push({ param: path, why: this.whyAddress(address) });
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
    const amount = params['amountMinor'];
    if (typeof amount === 'number' && !this.amountNamed(amount)) {
      found.push({
        param: 'amountMinor',
        why: 'you did not name this amount, nor a ceiling it is within',
      });
    }
    for (const path of ['messageId', 'eventId']) {
      const id = params[path];
      if (typeof id === 'string') {
        const why = this.whyTarget(
          id,
          path === 'messageId' ? 'message' : 'event',
          typeof calendarId === 'string' ? calendarId : 'primary',
        );
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
    return (
      this.own.has(value) ||
      this.named.has(value) ||
      mentions(this.request, value) ||
      this.namedByName(value)
    );
  }

  /**
   * Whether the person named this address's owner by name as someone to write to or meet ("reply
   * to Priya", "lunch with Sarah"): the address goes by that name on a message or event the
   * request points at, the task searched the whole mailbox for that name (a search that saw every
   * match), and no other address in what the task read goes by it — a look-alike makes it
   * ambiguous, and a search that saw only some matches may have missed the real one.
   */
  private namedByName(address: string): boolean {
    const namesOf = (target: string, items: Iterable<ContentItem>) => {
      const names = new Set<string>();
      for (const item of items) {
        for (const header of [...item.from, ...item.participants]) {
          if (!addressesIn(header).includes(target)) continue;
          for (const word of words(header.replace(EMAIL, ' '))) names.add(stem(word));
        }
      }
      return names;
    };
    const called = [...namesOf(address, this.referred)].filter(
      (name) =>
        this.addressees.has(name) &&
        this.content.searches.some(
          (search) => search.complete && words(search.query).map(stem).includes(name),
        ),
    );
    if (called.length === 0) return false;
    const others = new Set<string>();
    for (const item of this.content.items) {
      for (const header of [...item.from, ...item.participants]) {
        for (const other of addressesIn(header)) if (other !== address) others.add(other);
      }
    }
    return ![...others].some((other) => {
      const theirs = namesOf(other, this.content.items);
      return called.some((name) => theirs.has(name));
    });
  }

  private isCalendarOfPerson(calendarId: string): boolean {
    return (
      calendarId === 'primary' ||
      this.own.has(lower(calendarId)) ||
      mentions(this.request, calendarId)
    );
  }

  private amountNamed(minor: number): boolean {
    const { amounts, ceiling } = this.money;
    return amounts.has(minor) || (ceiling !== undefined && minor <= ceiling);
  }

  /** The attendees an event has, as the task's reads listed it (none if it was not listed). */
  private attendeesOf(calendarId: unknown, eventId: unknown): string[] {
    const event = this.content.items.find(
      (item) =>
        item.kind === 'event' &&
        item.id === eventId &&
        item.calendarId === (typeof calendarId === 'string' ? calendarId : 'primary') &&
        this.referred.has(item),
    );
    return (event?.participants ?? []).flatMap((header) => addressesIn(header));
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

  private whyTarget(id: string, kind: ContentItem['kind'], calendarId: string): string | undefined {
    const item = this.content.items.find(
      (candidate) =>
        candidate.kind === kind &&
        candidate.id === id &&
        (kind === 'message' || candidate.calendarId === calendarId),
    );
    if (item === undefined) return `the ${kind} ${id.slice(0, 64)} is not one the task found`;
    if (this.referred.has(item)) return undefined;
    return `nothing in your request points at ${describe(item)}`;
  }

  /**
   * Why text does not come from the person: it carries a link they did not give or ask to pass
   * on, or (when it leaves) a copy of content they did not point at.
   */
  private whyText(raw: string, leaves: boolean): string | undefined {
    const text = folded(raw);
    for (const link of text.match(LINK) ?? []) {
      const why = this.whyLink(link);
      if (why !== undefined) return why;
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

  private whyLink(link: string): string | undefined {
    if (mentions(this.request, link)) return undefined;
    const target = lower(link);
    const from = this.content.items.filter((item) =>
      lower(folded(itemText(item))).includes(target),
    );
    if (from.length === 0) return `a link you did not give (${link.slice(0, 80)})`;
    const pointed = from.find((item) => this.referred.has(item));
    if (pointed === undefined) return `a link first seen in ${describe(from[0]!)}`;
    if (!PASSES_ON.test(this.request)) {
      return `a link from ${describe(pointed)}, which you did not ask to pass on`;
    }
    // The one link of everything the request points at: a second one, planted beside it (in the
    // same mail or another), makes which one was meant unclear.
    const links = new Set(
      [...this.referred].flatMap((item) => (folded(itemText(item)).match(LINK) ?? []).map(lower)),
    );
    if (links.size > 1) {
      return `one of ${links.size} links in what you pointed at (${describe(pointed)}): which one you meant is not clear`;
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
    if (item.start !== undefined && this.times.size > 0) {
      const minutes = timeOfDay(item.start, this.content.timeZone ?? 'UTC');
      if (minutes !== undefined && this.times.has(minutes)) return true;
    }
    const names = [...item.titles, ...item.from.map((header) => header.replace(EMAIL, ' '))];
    return names.some((text) => words(text).some((word) => this.pointing.has(stem(word))));
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

/** A read of the task, as stored: its type, parameters and minimised result. */
export interface StoredRead {
  readonly type: string;
  readonly params?: unknown;
  readonly result: unknown;
}

/** The messages and events in what a task's reads returned, and the searches it made. */
export function readContent(reads: readonly StoredRead[]): {
  items: ContentItem[];
  searches: MailSearch[];
} {
  const items = new Map<string, ContentItem>();
  const searches: MailSearch[] = [];
  const add = (item: ContentItem) => {
    const key = `${item.kind}:${item.calendarId ?? ''}:${item.id}`;
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
    const result = record(read.result);
    const params = record(read.params);
    if (read.type === 'gmail.messages.search') {
      for (const message of records(result['messages'])) add(messageItem(message));
      searches.push({ query: text(params['query']), complete: result['nextPageToken'] == null });
    } else if (read.type === 'gmail.messages.read') {
      add(messageItem(result));
    } else if (read.type === 'calendar.events.list') {
      const calendarId = text(params['calendarId']) || 'primary';
      for (const event of records(result['events'])) {
        add({
          kind: 'event',
          id: text(event['id']),
          calendarId,
          from: strings(event['organizer']),
          participants: strings(event['attendees']),
          titles: strings(event['summary']),
          texts: [...strings(event['description']), ...strings(event['location'])],
          ...(typeof event['start'] === 'string' ? { start: event['start'] } : {}),
        });
      }
    }
  }
  return { items: [...items.values()].filter((item) => item.id !== ''), searches };
}

function record(value: unknown): Record<string, unknown> {
  return (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
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
