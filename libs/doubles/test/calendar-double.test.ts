import { auth, calendar, type calendar_v3 } from '@googleapis/calendar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CalendarDouble, type CalendarEvent } from '../src/index.js';

const scope = (name: string) => `https://www.googleapis.com/auth/${name}`;

let double: CalendarDouble;

beforeEach(async () => {
  double = await CalendarDouble.start();
  double.allowToken('reader', [scope('calendar.readonly')]);
  double.allowToken('writer', [scope('calendar.events')]);
  double.allowToken('owner', [scope('calendar')]);
  double.allowToken('boss', [scope('calendar')], 'boss@example.com');
});

afterEach(async () => {
  await double.close();
});

/** The official client, authorised the way production code does it: an OAuth2Client. */
function client(token?: string): calendar_v3.Calendar {
  if (token === undefined) return calendar({ version: 'v3', rootUrl: double.rootUrl });
  const oauth = new auth.OAuth2();
  oauth.setCredentials({ access_token: token });
  return calendar({ version: 'v3', rootUrl: double.rootUrl, auth: oauth });
}

const at = (time: string) => ({ dateTime: `2025-03-10T${time}:00Z` });

function seedDay(): Record<'standup' | 'lunch' | 'review' | 'tomorrow', string> {
  const add = (event: CalendarEvent) => double.addEvent('primary', event).id!;
  return {
    review: add({
      summary: 'Design review',
      description: 'Bring the mockups',
      start: at('15:00'),
      end: at('16:00'),
    }),
    standup: add({
      summary: 'Standup',
      start: at('09:00'),
      end: at('09:15'),
      attendees: [{ email: 'team@example.com', displayName: 'The Team' }],
    }),
    lunch: add({
      summary: 'Lunch',
      start: at('12:00'),
      end: at('13:00'),
      transparency: 'transparent',
    }),
    tomorrow: add({
      summary: 'Tomorrow',
      start: { dateTime: '2025-03-11T09:00:00Z' },
      end: { dateTime: '2025-03-11T10:00:00Z' },
    }),
  };
}

describe('authentication and scopes', () => {
  it('answers 401 without or with an unknown token and 403 for a missing scope', async () => {
    await expect(client().events.list({ calendarId: 'primary' })).rejects.toMatchObject({
      status: 401,
      response: { data: { error: { code: 401, status: 'UNAUTHENTICATED' } } },
    });
    await expect(client('stolen').events.list({ calendarId: 'primary' })).rejects.toMatchObject({
      status: 401,
    });
    const insufficient = {
      status: 403,
      response: {
        data: {
          error: {
            message: 'Request had insufficient authentication scopes.',
            status: 'PERMISSION_DENIED',
          },
        },
      },
    };
    await expect(
      client('reader').events.insert({
        calendarId: 'primary',
        requestBody: { start: at('10:00'), end: at('11:00') },
      }),
    ).rejects.toMatchObject(insufficient);
    // As Google documents it, freebusy.query does not accept calendar.events.
    await expect(
      client('writer').freebusy.query({
        requestBody: { timeMin: '2025-03-10T00:00:00Z', timeMax: '2025-03-11T00:00:00Z' },
      }),
    ).rejects.toMatchObject(insufficient);
    expect(double.getEvent('primary', 'anything')).toBeUndefined();
  });

  it('lets calendar.readonly, calendar.events and calendar read events', async () => {
    seedDay();
    for (const token of ['reader', 'writer', 'owner']) {
      const listed = await client(token).events.list({ calendarId: 'primary' });
      expect(listed.data.items).toHaveLength(4);
    }
  });
});

describe('events.list', () => {
  it('keeps events overlapping the window, ordered by start time on request', async () => {
    const ids = seedDay();
    const listed = await client('reader').events.list({
      calendarId: 'primary',
      timeMin: '2025-03-10T09:10:00Z',
      timeMax: '2025-03-10T15:00:00Z',
      singleEvents: true,
      orderBy: 'startTime',
    });
    expect(listed.data).toMatchObject({
      kind: 'calendar#events',
      summary: 'me@example.com',
      timeZone: 'UTC',
      accessRole: 'owner',
    });
    expect(listed.data.items?.map((e) => e.id)).toEqual([ids.standup, ids.lunch]);
    const insertionOrder = await client('reader').events.list({ calendarId: 'me@example.com' });
    expect(insertionOrder.data.items?.map((e) => e.id)).toEqual([
      ids.review,
      ids.standup,
      ids.lunch,
      ids.tomorrow,
    ]);
  });

  it('searches text, pages and refuses what Google refuses', async () => {
    const ids = seedDay();
    const api = client('reader');
    const byText = async (q: string) =>
      (await api.events.list({ calendarId: 'primary', q })).data.items?.map((e) => e.id);
    expect(await byText('mockups')).toEqual([ids.review]);
    expect(await byText('the team')).toEqual([ids.standup]);
    const first = await api.events.list({ calendarId: 'primary', maxResults: 3 });
    expect(first.data.items).toHaveLength(3);
    const rest = await api.events.list({
      calendarId: 'primary',
      maxResults: 3,
      pageToken: first.data.nextPageToken ?? '',
    });
    expect(rest.data.items?.map((e) => e.id)).toEqual([ids.tomorrow]);
    expect(rest.data.nextPageToken).toBeUndefined();
    await expect(
      api.events.list({ calendarId: 'primary', orderBy: 'startTime' }),
    ).rejects.toMatchObject({
      status: 400,
      message: 'The requested ordering is not available for the particular query.',
    });
    await expect(
      api.events.list({
        calendarId: 'primary',
        timeMin: '2025-03-10T10:00:00Z',
        timeMax: '2025-03-10T09:00:00Z',
      }),
    ).rejects.toMatchObject({
      status: 400,
      response: { data: { error: { errors: [{ reason: 'timeRangeEmpty' }] } } },
    });
  });

  it("hides another account's calendar and answers 404 for unknown ids", async () => {
    double.addEvent('boss@example.com', {
      summary: 'Secret',
      start: at('10:00'),
      end: at('11:00'),
    });
    await expect(
      client('owner').events.list({ calendarId: 'boss@example.com' }),
    ).rejects.toMatchObject({ status: 404, response: { data: { error: { code: 404 } } } });
    const own = await client('boss').events.list({ calendarId: 'primary' });
    expect(own.data.items?.map((e) => e.summary)).toEqual(['Secret']);
    await expect(
      client('owner').events.get({ calendarId: 'primary', eventId: 'nosuchevent' }),
    ).rejects.toMatchObject({
      status: 404,
      message: 'Not Found',
      response: { data: { error: { errors: [{ reason: 'notFound' }] } } },
    });
  });
});

describe('writing events', () => {
  it('inserts with server-set fields and honours a client-chosen id once', async () => {
    const api = client('writer');
    const created = await api.events.insert({
      calendarId: 'primary',
      requestBody: { summary: 'Dentist', start: at('08:00'), end: at('08:30') },
    });
    expect(created.data).toMatchObject({
      kind: 'calendar#event',
      status: 'confirmed',
      summary: 'Dentist',
      sequence: 0,
      organizer: { email: 'me@example.com', self: true },
    });
    expect(created.data.id).toMatch(/^[a-v0-9]{5,}$/);
    expect(created.data.etag).toMatch(/^"\d+"$/);
    expect(created.data.htmlLink).toMatch(/^https:\/\/www\.google\.com\/calendar\/event\?eid=/);
    expect(created.data.created).toBe(created.data.updated);
    const fetched = await api.events.get({ calendarId: 'primary', eventId: created.data.id! });
    expect(fetched.data).toEqual(created.data);

    const chosen = { id: 'agentevent001', start: at('18:00'), end: at('19:00') };
    await api.events.insert({ calendarId: 'primary', requestBody: chosen });
    await expect(
      api.events.insert({ calendarId: 'primary', requestBody: chosen }),
    ).rejects.toMatchObject({ status: 409 });
    await expect(
      api.events.insert({ calendarId: 'primary', requestBody: { start: at('18:00') } }),
    ).rejects.toMatchObject({ status: 400, message: 'Missing end time.' });
  });

  it('updates and patches under If-Match, raising sequence and etag', async () => {
    const { review } = seedDay();
    const api = client('writer');
    const original = (await api.events.get({ calendarId: 'primary', eventId: review })).data;

    const updated = await api.events.update(
      {
        calendarId: 'primary',
        eventId: review,
        requestBody: { summary: 'Design review (moved)', start: at('16:00'), end: at('17:00') },
      },
      { headers: { 'If-Match': original.etag! } },
    );
    expect(updated.data).toMatchObject({ summary: 'Design review (moved)', sequence: 1 });
    expect(updated.data.description).toBeUndefined();
    expect(updated.data.etag).not.toBe(original.etag);
    expect(updated.data.created).toBe(original.created);

    await expect(
      api.events.patch(
        { calendarId: 'primary', eventId: review, requestBody: { summary: 'Stale write' } },
        { headers: { 'If-Match': original.etag! } },
      ),
    ).rejects.toMatchObject({
      status: 412,
      response: {
        data: {
          error: { status: 'FAILED_PRECONDITION', errors: [{ reason: 'conditionNotMet' }] },
        },
      },
    });
    expect(double.getEvent('primary', review)?.summary).toBe('Design review (moved)');

    const patched = await api.events.patch(
      {
        calendarId: 'primary',
        eventId: review,
        requestBody: { location: 'Room 4', end: { dateTime: '2025-03-10T17:30:00Z' } },
      },
      { headers: { 'If-Match': updated.data.etag! } },
    );
    expect(patched.data).toMatchObject({
      summary: 'Design review (moved)',
      location: 'Room 4',
      start: at('16:00'),
      end: { dateTime: '2025-03-10T17:30:00Z' },
      sequence: 2,
    });
  });

  it('answers 304 to If-None-Match with the current etag', async () => {
    const { standup } = seedDay();
    const api = client('reader');
    const first = await api.events.get({ calendarId: 'primary', eventId: standup });
    const again = await api.events.get(
      { calendarId: 'primary', eventId: standup },
      { headers: { 'If-None-Match': first.data.etag! } },
    );
    expect(again.status).toBe(304);
  });

  it('deletes by cancelling, 410 on a second delete, and restores through patch', async () => {
    const { standup } = seedDay();
    const api = client('writer');
    const before = (await api.events.get({ calendarId: 'primary', eventId: standup })).data;
    await expect(
      api.events.delete(
        { calendarId: 'primary', eventId: standup },
        { headers: { 'If-Match': '"1"' }, retry: false },
      ),
    ).rejects.toMatchObject({ status: 412 });

    const deleted = await api.events.delete(
      { calendarId: 'primary', eventId: standup },
      { headers: { 'If-Match': before.etag! } },
    );
    expect(deleted.status).toBe(204);
    const cancelled = await api.events.get({ calendarId: 'primary', eventId: standup });
    expect(cancelled.data.status).toBe('cancelled');
    const listed = await api.events.list({ calendarId: 'primary' });
    expect(listed.data.items?.map((e) => e.id)).not.toContain(standup);
    const withDeleted = await api.events.list({ calendarId: 'primary', showDeleted: true });
    expect(withDeleted.data.items?.map((e) => e.id)).toContain(standup);
    await expect(
      api.events.delete({ calendarId: 'primary', eventId: standup }, { retry: false }),
    ).rejects.toMatchObject({ status: 410, message: 'Resource has been deleted' });

    const restored = await api.events.patch(
      { calendarId: 'primary', eventId: standup, requestBody: { status: 'confirmed' } },
      { headers: { 'If-Match': cancelled.data.etag! } },
    );
    expect(restored.data).toMatchObject({ status: 'confirmed', summary: 'Standup' });
  });
});

describe('freebusy.query', () => {
  it('merges and clips busy time from opaque, live, accepted events', async () => {
    seedDay();
    double.addEvent('primary', { summary: 'Overlap', start: at('09:10'), end: at('09:30') });
    double.addEvent('primary', {
      summary: 'Declined',
      start: at('11:00'),
      end: at('11:30'),
      attendees: [{ email: 'me@example.com', responseStatus: 'declined' }],
    });
    double.addEvent('primary', {
      summary: 'Cancelled',
      status: 'cancelled',
      start: at('10:00'),
      end: at('10:30'),
    });
    double.addEvent('boss@example.com', { start: at('14:00'), end: at('15:30') });
    const answer = await client('reader').freebusy.query({
      requestBody: {
        timeMin: '2025-03-10T09:05:00Z',
        timeMax: '2025-03-10T15:30:00Z',
        items: [{ id: 'primary' }, { id: 'boss@example.com' }, { id: 'ghost@example.com' }],
      },
    });
    expect(answer.data).toEqual({
      kind: 'calendar#freeBusy',
      timeMin: '2025-03-10T09:05:00Z',
      timeMax: '2025-03-10T15:30:00Z',
      calendars: {
        primary: {
          busy: [
            { start: '2025-03-10T09:05:00Z', end: '2025-03-10T09:30:00Z' },
            { start: '2025-03-10T15:00:00Z', end: '2025-03-10T15:30:00Z' },
          ],
        },
        'boss@example.com': {
          busy: [{ start: '2025-03-10T14:00:00Z', end: '2025-03-10T15:30:00Z' }],
        },
        'ghost@example.com': { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] },
      },
    });
  });
});

describe('failures and recording', () => {
  it('fails the next call, which the client retries for GET but not POST', async () => {
    seedDay();
    const api = client('owner');
    double.failNext(503);
    const listed = await api.events.list({ calendarId: 'primary' });
    expect(listed.data.items).toHaveLength(4);
    double.failNext(500, 'backendError', 'Backend Error');
    await expect(
      api.events.insert({
        calendarId: 'primary',
        requestBody: { start: at('20:00'), end: at('21:00') },
      }),
    ).rejects.toMatchObject({
      status: 500,
      message: 'Backend Error',
      response: { data: { error: { code: 500, status: 'INTERNAL' } } },
    });
    expect(double.callCount('calendar.events.list')).toBe(2);
    expect(double.callCount('calendar.events.insert')).toBe(1);
    const insert = double.requests.at(-1);
    expect(insert).toMatchObject({
      method: 'POST',
      path: '/calendar/v3/calendars/primary/events',
      token: 'owner',
      status: 500,
      body: { start: at('20:00'), end: at('21:00') },
    });
    const events = await api.events.list({ calendarId: 'primary', q: '' });
    expect(events.data.items).toHaveLength(4);
  });
});
