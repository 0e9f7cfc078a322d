import { calendar, type calendar_v3 } from '@googleapis/calendar';
import type { z } from 'zod';
import { createEvent, deleteEvent, freeBusy, listEvents, updateEvent } from '@heroagent/contracts';
import type { Connector, ConnectorCall, ConnectorOutcome, UndoCall } from '../actions/connector.js';
import { googleFailure } from './google-errors.js';

type Params<A extends { params: z.ZodType }> = z.output<A['params']>;

/** The fields of an event HeroAgent writes, and restores on undo. */
const RESTORABLE = ['summary', 'description', 'location', 'start', 'end', 'attendees'] as const;

function when(time: calendar_v3.Schema$EventDateTime | undefined): string | undefined {
  return time?.dateTime ?? time?.date ?? undefined;
}

/** The writable part of an event, as it was (what undoing an update or a delete puts back). */
function snapshot(event: calendar_v3.Schema$Event): calendar_v3.Schema$Event {
  const kept: calendar_v3.Schema$Event = {};
  for (const field of RESTORABLE) {
    if (event[field] !== undefined && event[field] !== null) {
      (kept as Record<string, unknown>)[field] = event[field];
    }
  }
  if (kept.attendees !== undefined) {
    kept.attendees = (kept.attendees ?? []).map((attendee) => ({ email: attendee.email ?? null }));
  }
  return kept;
}

/**
 * Google Calendar, through Google's own client (`@googleapis/calendar`), with the access token for
 * this one call. Writes keep what undoing needs: the created event's id, or the event as it was.
 */
export class CalendarConnector implements Connector {
  private static readonly TYPES: ReadonlySet<string> = new Set([
    listEvents.type,
    freeBusy.type,
    createEvent.type,
    updateEvent.type,
    deleteEvent.type,
  ]);

  constructor(private readonly options: { rootUrl: string; timeoutMs: number }) {}

  handles(type: string): boolean {
    return CalendarConnector.TYPES.has(type);
  }

  async execute(call: ConnectorCall): Promise<ConnectorOutcome> {
    const api = this.api(call.accessToken);
    try {
      switch (call.type) {
        case listEvents.type:
          return await this.list(api, call.params as Params<typeof listEvents>);
        case freeBusy.type:
          return await this.freeBusy(api, call.params as Params<typeof freeBusy>);
        case createEvent.type:
          return await this.create(api, call.params as Params<typeof createEvent>);
        case updateEvent.type:
          return await this.update(api, call.params as Params<typeof updateEvent>);
        case deleteEvent.type:
          return await this.delete(api, call.params as Params<typeof deleteEvent>);
        default:
          throw new Error(`CalendarConnector cannot do ${call.type}`);
      }
    } catch (error) {
      throw googleFailure(error);
    }
  }

  /**
   * Undoes a write from the state kept when it ran: deletes an event it created, puts back the
   * fields an update changed, restores (un-cancels) an event it deleted.
   */
  async undo(call: UndoCall): Promise<void> {
    const api = this.api(call.accessToken);
    const state = call.undoState as {
      calendarId: string;
      eventId: string;
      previous?: calendar_v3.Schema$Event;
    };
    try {
      switch (call.type) {
        case createEvent.type:
          await api.events.delete({
            calendarId: state.calendarId,
            eventId: state.eventId,
            sendUpdates: 'all',
          });
          return;
        case updateEvent.type:
          await api.events.patch({
            calendarId: state.calendarId,
            eventId: state.eventId,
            sendUpdates: 'all',
            requestBody: state.previous ?? {},
          });
          return;
        case deleteEvent.type:
          await api.events.patch({
            calendarId: state.calendarId,
            eventId: state.eventId,
            sendUpdates: 'all',
            requestBody: { ...(state.previous ?? {}), status: 'confirmed' },
          });
          return;
        default:
          throw new Error(`CalendarConnector cannot undo ${call.type}`);
      }
    } catch (error) {
      throw googleFailure(error);
    }
  }

  private api(accessToken: string): calendar_v3.Calendar {
    return calendar({
      version: 'v3',
      rootUrl: this.options.rootUrl,
      headers: { authorization: `Bearer ${accessToken}` },
      timeout: this.options.timeoutMs,
      retry: false,
    });
  }

  private async list(api: calendar_v3.Calendar, params: Params<typeof listEvents>) {
    const { data } = await api.events.list({
      calendarId: params.calendarId,
      timeMin: params.timeMin,
      timeMax: params.timeMax,
      maxResults: params.maxResults,
      singleEvents: true,
      orderBy: 'startTime',
      ...(params.query === undefined ? {} : { q: params.query }),
    });
    const asked = new Set(params.fields);
    const events = (data.items ?? []).map((event) => ({
      id: event.id ?? '',
      summary: event.summary ?? undefined,
      start: when(event.start),
      end: when(event.end),
      location: event.location ?? undefined,
      attendees: asked.has('attendees')
        ? (event.attendees ?? []).flatMap((attendee) => attendee.email ?? [])
        : event.attendees?.length,
      ...(asked.has('description') && event.description
        ? { description: event.description.slice(0, 8192) }
        : {}),
      ...(asked.has('organizer') && event.organizer?.email
        ? { organizer: event.organizer.email }
        : {}),
    }));
    return { result: { events } };
  }

  private async freeBusy(api: calendar_v3.Calendar, params: Params<typeof freeBusy>) {
    const { data } = await api.freebusy.query({
      requestBody: {
        timeMin: params.timeMin,
        timeMax: params.timeMax,
        items: params.calendars.map((id) => ({ id })),
      },
    });
    const calendars: Record<string, { start: string; end: string }[]> = {};
    for (const [id, value] of Object.entries(data.calendars ?? {})) {
      calendars[id] = (value.busy ?? []).map((slot) => ({
        start: slot.start ?? '',
        end: slot.end ?? '',
      }));
    }
    return { result: { calendars } };
  }

  private async create(api: calendar_v3.Calendar, params: Params<typeof createEvent>) {
    const { calendarId, attendees, ...fields } = params;
    const { data } = await api.events.insert({
      calendarId,
      sendUpdates: 'all',
      requestBody: { ...fields, attendees: attendees.map((email) => ({ email })) },
    });
    return {
      result: { eventId: data.id ?? '', htmlLink: data.htmlLink ?? undefined },
      undoState: { calendarId, eventId: data.id ?? '', etag: data.etag ?? null },
    };
  }

  private async update(api: calendar_v3.Calendar, params: Params<typeof updateEvent>) {
    const before = await api.events.get({ calendarId: params.calendarId, eventId: params.eventId });
    const { attendees, ...changes } = params.changes;
    const { data } = await api.events.patch(
      {
        calendarId: params.calendarId,
        eventId: params.eventId,
        sendUpdates: 'all',
        requestBody: {
          ...changes,
          ...(attendees === undefined ? {} : { attendees: attendees.map((email) => ({ email })) }),
        },
      },
      // Nobody changed it since it was read: what undo restores is what this changed.
      before.data.etag ? { headers: { 'if-match': before.data.etag } } : {},
    );
    return {
      result: { eventId: params.eventId },
      undoState: {
        calendarId: params.calendarId,
        eventId: params.eventId,
        previous: snapshot(before.data),
        etag: data.etag ?? null,
      },
    };
  }

  private async delete(api: calendar_v3.Calendar, params: Params<typeof deleteEvent>) {
    const before = await api.events.get({ calendarId: params.calendarId, eventId: params.eventId });
    await api.events.delete(
      { calendarId: params.calendarId, eventId: params.eventId, sendUpdates: 'all' },
      before.data.etag ? { headers: { 'if-match': before.data.etag } } : {},
    );
    return {
      result: { eventId: params.eventId },
      undoState: {
        calendarId: params.calendarId,
        eventId: params.eventId,
        previous: snapshot(before.data),
      },
    };
  }
}
