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

// The scopes each method accepts, from the discovery-generated `@googleapis/calendar` client's
// method docs (developers.google.com/calendar/api/v3/reference), leaving out calendar.app.created,
// calendar.events.public.readonly and calendar.events.freebusy on events, whose narrower meaning
// the double does not model. Note freebusy.query does not accept calendar.events.
const SCOPES = {
  read: [
    'calendar',
    'calendar.readonly',
    'calendar.events',
    'calendar.events.readonly',
    'calendar.events.owned',
    'calendar.events.owned.readonly',
  ].map(scopeUrl),
  write: ['calendar', 'calendar.events', 'calendar.events.owned'].map(scopeUrl),
  freeBusy: ['calendar', 'calendar.readonly', 'calendar.freebusy', 'calendar.events.freebusy'].map(
    scopeUrl,
  ),
};

/** Calendar's `EventDateTime`: `dateTime` (RFC 3339) for timed events, `date` for all-day ones. */
export interface CalendarEventTime {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}

/** Calendar's `Event` resource; fields the double does not interpret are kept as sent. */
export interface CalendarEvent {
  id?: string;
  status?: string;
  summary?: string;
  description?: string;
  location?: string;
  start?: CalendarEventTime;
  end?: CalendarEventTime;
  attendees?: { email?: string; displayName?: string; responseStatus?: string }[];
  /** `transparent` events leave the time free. */
  transparency?: string;
  etag?: string;
  htmlLink?: string;
  created?: string;
  updated?: string;
  sequence?: number;
  [field: string]: unknown;
}

const CALENDAR_ID = String.raw`^/calendar/v3/calendars/([^/]+)`;
const notFound = () => new GoogleApiError(404, 'Not Found', 'notFound');
const emptyRange = () =>
  new GoogleApiError(400, 'The specified time range is empty.', 'timeRangeEmpty', {
    domain: 'calendar',
  });

/**
 * A test double of the Google Calendar API v3 (https://www.googleapis.com/calendar/v3, shapes
 * from the discovery-generated `@googleapis/calendar` client): events list/get/insert/update/
 * patch/delete and freeBusy.query, one calendar per account (`primary` is the token's), with
 * Google's bearer-token and scope checks and `If-Match` etag preconditions.
 *
 * Semantics chosen to follow Google's: delete marks the event `status: 'cancelled'` (204); a get
 * still answers it, list leaves it out unless `showDeleted=true`, a second delete is 410 and an
 * update or patch back to `confirmed` restores it. Each write gives a new etag; update and patch
 * raise `sequence`. Recurring events are not expanded (`singleEvents` only gates
 * `orderBy=startTime`, as Google requires). Without `orderBy` items come in insertion order, which
 * Google leaves unspecified. A calendar of an account some token acts for is private to that
 * account (404 to others, yet visible to freeBusy); other calendars seeded with addEvent are
 * shared with every token.
 */
export class CalendarDouble extends GoogleApiDouble {
  protected readonly serviceName = 'calendar-json.googleapis.com';
  private readonly calendars = new Map<string, Map<string, CalendarEvent>>();
  private version = Date.now() * 1000;

  private constructor() {
    super();
  }

  static async start(): Promise<CalendarDouble> {
    const double = new CalendarDouble();
    await double.listen();
    return double;
  }

  /** Puts an event in a calendar (`primary` is me@example.com's) and answers it as stored. */
  addEvent(calendarId: string, event: CalendarEvent): CalendarEvent {
    const id = calendarId === 'primary' ? DEFAULT_ACCOUNT : calendarId;
    return structuredClone(this.create(id, event));
  }

  /** An event as events.get would answer it (cancelled ones too), or undefined. */
  getEvent(calendarId: string, eventId: string): CalendarEvent | undefined {
    const id = calendarId === 'primary' ? DEFAULT_ACCOUNT : calendarId;
    const event = this.calendars.get(id)?.get(eventId);
    return event === undefined ? undefined : structuredClone(event);
  }

  /** Every event of a calendar that is not cancelled, as stored. */
  listEvents(calendarId: string): CalendarEvent[] {
    const id = calendarId === 'primary' ? DEFAULT_ACCOUNT : calendarId;
    return [...(this.calendars.get(id)?.values() ?? [])]
      .filter((event) => event.status !== 'cancelled')
      .map((event) => structuredClone(event));
  }

  protected routes(): readonly ApiRoute[] {
    const events = (suffix: string) => new RegExp(`${CALENDAR_ID}/events${suffix}$`);
    const route = (
      method: ApiRoute['method'],
      path: RegExp,
      operation: string,
      scopes: readonly string[],
      handle: (call: ApiCall) => ApiReply,
    ): ApiRoute => ({ method, path, operation: `calendar.${operation}`, scopes, handle });
    return [
      route('GET', events(''), 'events.list', SCOPES.read, (call) => this.list(call)),
      route('POST', events(''), 'events.insert', SCOPES.write, (call) => ({
        status: 200,
        body: this.create(this.calendarOf(call), call.body),
      })),
      route('GET', events('/([^/]+)'), 'events.get', SCOPES.read, (call) => {
        const event = this.event(call);
        const unchanged = call.headers['if-none-match'] === event.etag;
        return unchanged ? { status: 304 } : { status: 200, body: event };
      }),
      route('PUT', events('/([^/]+)'), 'events.update', SCOPES.write, (call) =>
        this.replace(call, () => ({ ...call.body, status: call.body.status ?? 'confirmed' })),
      ),
      route('PATCH', events('/([^/]+)'), 'events.patch', SCOPES.write, (call) =>
        this.replace(call, (old) => mergePatch(old, call.body)),
      ),
      route('DELETE', events('/([^/]+)'), 'events.delete', SCOPES.write, (call) => {
        const event = this.event(call);
        precondition(call, event);
        if (event.status === 'cancelled')
          throw new GoogleApiError(410, 'Resource has been deleted', 'deleted');
        Object.assign(event, { status: 'cancelled', ...this.stamp() });
        return { status: 204 };
      }),
      route('POST', /^\/calendar\/v3\/freeBusy$/, 'freebusy.query', SCOPES.freeBusy, (call) =>
        this.freeBusy(call),
      ),
    ];
  }

  /** `primary` is the caller's own calendar; another account's is hidden (404), as unshared. */
  private calendarOf(call: ApiCall): string {
    const asked = call.params[0] ?? '';
    const id = asked === 'primary' ? call.grant.account : asked;
    if (id === call.grant.account) return id;
    if (this.knownAccounts().has(id) || !this.calendars.has(id)) throw notFound();
    return id;
  }

  private events(calendarId: string): Map<string, CalendarEvent> {
    let events = this.calendars.get(calendarId);
    if (events === undefined) {
      events = new Map();
      this.calendars.set(calendarId, events);
    }
    return events;
  }

  private event(call: ApiCall): CalendarEvent {
    const event = this.events(this.calendarOf(call)).get(call.params[1] ?? '');
    if (event === undefined) throw notFound();
    return event;
  }

  private stamp(): { etag: string; updated: string } {
    this.version += 1;
    return { etag: `"${this.version}"`, updated: new Date().toISOString() };
  }

  private create(calendarId: string, body: Record<string, unknown>): CalendarEvent {
    const events = this.events(calendarId);
    const id = typeof body.id === 'string' ? body.id : randomBytes(13).toString('hex');
    // Client-chosen ids are base32hex, as Google requires.
    if (!/^[a-v0-9]{5,1024}$/.test(id))
      throw new GoogleApiError(400, 'Invalid resource id value.', 'invalid');
    if (events.has(id))
      throw new GoogleApiError(409, 'The requested identifier already exists.', 'duplicate');
    const stamp = this.stamp();
    const event: CalendarEvent = {
      kind: 'calendar#event',
      status: 'confirmed',
      creator: { email: calendarId, self: true },
      organizer: { email: calendarId, self: true },
      reminders: { useDefault: true },
      eventType: 'default',
      ...structuredClone(body),
      ...stamp,
      id,
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${calendarId}`).toString('base64url')}`,
      created: stamp.updated,
      iCalUID: `${id}@google.com`,
      sequence: typeof body.sequence === 'number' ? body.sequence : 0,
    };
    timeRange(event);
    events.set(id, event);
    return event;
  }

  /** update and patch: check If-Match, build the new fields, keep what the server owns. */
  private replace(call: ApiCall, next: (old: CalendarEvent) => Record<string, unknown>): ApiReply {
    const old = this.event(call);
    precondition(call, old);
    const fields = next(old);
    const event: CalendarEvent = {
      kind: 'calendar#event',
      creator: old.creator,
      organizer: old.organizer,
      ...structuredClone(fields),
      ...this.stamp(),
      id: old.id,
      htmlLink: old.htmlLink,
      created: old.created,
      iCalUID: old.iCalUID,
      sequence: (old.sequence ?? 0) + 1,
    };
    timeRange(event);
    this.events(this.calendarOf(call)).set(old.id ?? '', event);
    return { status: 200, body: event };
  }

  private list(call: ApiCall): ApiReply {
    const calendarId = this.calendarOf(call);
    const { query } = call;
    const timeMin = instant(query.get('timeMin'), 'timeMin');
    const timeMax = instant(query.get('timeMax'), 'timeMax');
    if (timeMin !== undefined && timeMax !== undefined && timeMax <= timeMin) throw emptyRange();
    const orderBy = query.get('orderBy');
    if (orderBy === 'startTime' && query.get('singleEvents') !== 'true')
      throw new GoogleApiError(
        400,
        'The requested ordering is not available for the particular query.',
        'badRequest',
      );
    if (orderBy !== null && orderBy !== 'startTime' && orderBy !== 'updated')
      throw new GoogleApiError(400, `Invalid value for orderBy: ${orderBy}`, 'invalid');
    const words = (query.get('q') ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const showDeleted = query.get('showDeleted') === 'true';
    const found = [...this.events(calendarId).values()].filter((event) => {
      const [start, end] = timeRange(event);
      const text = searchableText(event);
      return (
        (showDeleted || event.status !== 'cancelled') &&
        (timeMin === undefined || end > timeMin) &&
        (timeMax === undefined || start < timeMax) &&
        words.every((word) => text.includes(word))
      );
    });
    if (orderBy === 'startTime') found.sort((a, b) => timeRange(a)[0] - timeRange(b)[0]);
    if (orderBy === 'updated')
      found.sort((a, b) => (a.updated ?? '').localeCompare(b.updated ?? ''));
    const page = paginate(found, query.get('pageToken'), pageSize(query, 250, 2500));
    return {
      status: 200,
      body: {
        kind: 'calendar#events',
        etag: `"${this.version}"`,
        summary: calendarId,
        updated: new Date().toISOString(),
        timeZone: 'UTC',
        accessRole: calendarId === call.grant.account ? 'owner' : 'writer',
        defaultReminders: [],
        ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
        items: page.items,
      },
    };
  }

  /** Busy periods from confirmed, opaque events not declined by the owner, clipped and merged. */
  private freeBusy(call: ApiCall): ApiReply {
    const { timeMin, timeMax, items } = call.body;
    const from = instant(typeof timeMin === 'string' ? timeMin : null, 'timeMin', true);
    const to = instant(typeof timeMax === 'string' ? timeMax : null, 'timeMax', true);
    if (to <= from) throw emptyRange();
    const calendars: Record<string, unknown> = {};
    for (const item of Array.isArray(items) ? (items as { id?: unknown }[]) : []) {
      const asked = typeof item.id === 'string' ? item.id : '';
      const id = asked === 'primary' ? call.grant.account : asked;
      const events = this.calendars.get(id);
      if (events === undefined && !this.knownAccounts().has(id)) {
        calendars[asked] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
        continue;
      }
      const periods = [...(events?.values() ?? [])]
        .filter((event) => event.status !== 'cancelled' && event.transparency !== 'transparent')
        .filter(
          (event) =>
            !event.attendees?.some((a) => a.email === id && a.responseStatus === 'declined'),
        )
        .map((event) => timeRange(event))
        .filter(([start, end]) => end > from && start < to)
        .map(([start, end]): [number, number] => [Math.max(start, from), Math.min(end, to)])
        .sort((a, b) => a[0] - b[0]);
      const merged: [number, number][] = [];
      for (const [start, end] of periods) {
        const last = merged.at(-1);
        if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
        else merged.push([start, end]);
      }
      calendars[asked] = {
        busy: merged.map(([start, end]) => ({ start: rfc3339(start), end: rfc3339(end) })),
      };
    }
    return {
      status: 200,
      body: { kind: 'calendar#freeBusy', timeMin: rfc3339(from), timeMax: rfc3339(to), calendars },
    };
  }
}

/** 412 when `If-Match` names another version, as Google does for a stale etag. */
function precondition(call: ApiCall, event: CalendarEvent): void {
  const expected = call.headers['if-match'];
  if (expected !== undefined && expected !== '*' && expected !== event.etag)
    throw new GoogleApiError(412, 'Precondition Failed', 'conditionNotMet', {
      location: 'If-Match',
      locationType: 'header',
    });
}

/** PATCH semantics: objects merge field by field, arrays and scalars replace, null clears. */
function mergePatch(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    const current = merged[key];
    if (value === null) delete merged[key];
    else if (isObject(value) && isObject(current)) merged[key] = mergePatch(current, value);
    else merged[key] = value;
  }
  return merged;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The event's [start, end) in epoch ms; 400 as Google answers when either is missing or reversed. */
function timeRange(event: CalendarEvent): [number, number] {
  const at = (time: CalendarEventTime | undefined) =>
    Date.parse(time?.dateTime ?? (time?.date === undefined ? '' : `${time.date}T00:00:00Z`));
  const start = at(event.start);
  const end = at(event.end);
  if (Number.isNaN(start)) throw new GoogleApiError(400, 'Missing start time.', 'required');
  if (Number.isNaN(end)) throw new GoogleApiError(400, 'Missing end time.', 'required');
  if (end < start) throw emptyRange();
  return [start, end];
}

function instant(value: string | null, name: string, required: true): number;
function instant(value: string | null, name: string): number | undefined;
function instant(value: string | null, name: string, required = false): number | undefined {
  if (value === null) {
    if (required) throw new GoogleApiError(400, `Missing ${name} parameter.`, 'required');
    return undefined;
  }
  // RFC 3339 with a mandatory offset, as Google insists.
  const parsed = /(Z|[+-]\d\d:\d\d)$/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) throw new GoogleApiError(400, 'Bad Request', 'badRequest');
  return parsed;
}

function searchableText(event: CalendarEvent): string {
  const people = (event.attendees ?? []).flatMap((a) => [a.email ?? '', a.displayName ?? '']);
  return [event.summary, event.description, event.location, ...people]
    .filter((part): part is string => typeof part === 'string')
    .join('\n')
    .toLowerCase();
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
