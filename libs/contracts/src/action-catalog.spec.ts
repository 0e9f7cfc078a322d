import { describe, expect, it } from 'vitest';
import {
  ACTION_CATALOG,
  actionDefinition,
  GOOGLE_SCOPE_BUNDLES,
  actionTypeSchema,
} from './index.js';

const samples: Record<string, unknown> = {
  'gmail.messages.search': { query: 'from:ada@example.com is:unread' },
  'gmail.messages.read': { messageId: 'm1', fields: ['subject'] },
  'gmail.drafts.create': { to: ['Ada@Example.com'], subject: 'Hi', body: 'Hello' },
  'gmail.messages.send': {
    to: ['ada@example.com'],
    cc: ['bob@corp.example'],
    subject: 'Hi',
    body: 'Hello',
  },
  'gmail.messages.label': { messageId: 'm1', add: ['STARRED'] },
  'gmail.messages.archive': { messageId: 'm1' },
  'gmail.messages.trash': { messageId: 'm1' },
  'calendar.events.list': { timeMin: '2026-11-25T00:00:00Z', timeMax: '2026-11-26T00:00:00Z' },
  'calendar.freebusy': { timeMin: '2026-11-25T00:00:00Z', timeMax: '2026-11-26T00:00:00Z' },
  'calendar.events.create': {
    summary: 'Lunch',
    start: { dateTime: '2026-11-25T12:00:00Z' },
    end: { dateTime: '2026-11-25T13:00:00Z' },
    attendees: ['ada@example.com'],
  },
  'calendar.events.update': { eventId: 'e1', changes: { summary: 'Later lunch' } },
  'calendar.events.delete': { eventId: 'e1' },
  'purchase.create': { merchant: 'books', item: 'SICP', amountMinor: 4599, currency: 'EUR' },
};

describe('the action catalog', () => {
  it('holds every action under its own type, each with a sample that parses', () => {
    expect(Object.keys(ACTION_CATALOG).sort()).toEqual(Object.keys(samples).sort());
    for (const [type, action] of Object.entries(ACTION_CATALOG)) {
      expect(action.type).toBe(type);
      expect(actionTypeSchema.safeParse(type).success).toBe(true);
      expect(action.params.safeParse(samples[type]).success, type).toBe(true);
    }
  });

  it('says for every write how it is undone, and needs real Google scopes', () => {
    const google: readonly string[] = Object.values(GOOGLE_SCOPE_BUNDLES);
    for (const action of Object.values(ACTION_CATALOG)) {
      if (action.class === 'read') expect(action.undo.kind).toBe('none');
      if (action.class === 'reversible') expect(action.undo.kind).toBe('compensate');
      if (action.provider === 'google') {
        expect(action.scopes.length).toBeGreaterThan(0);
        for (const scope of action.scopes) expect(google).toContain(scope);
      }
    }
    expect(ACTION_CATALOG['gmail.messages.send']!.undo.kind).toBe('cancel-before-release');
    expect(ACTION_CATALOG['purchase.create']!.undo.kind).toBe('none');
  });

  it('derives the facts the policy and the limits reason over', () => {
    const send = ACTION_CATALOG['gmail.messages.send']!;
    expect(send.facts(send.params.parse(samples['gmail.messages.send']))).toEqual({
      recipients: ['ada@example.com', 'bob@corp.example'],
      recipientDomains: ['example.com', 'corp.example'],
    });
    const draft = ACTION_CATALOG['gmail.drafts.create']!;
    expect(draft.facts(draft.params.parse(samples['gmail.drafts.create'])).recipients).toEqual([
      'ada@example.com',
    ]);
    const buy = ACTION_CATALOG['purchase.create']!;
    expect(buy.facts(buy.params.parse(samples['purchase.create'])).amount).toEqual({
      minor: 4599,
      currency: 'EUR',
    });
    const create = ACTION_CATALOG['calendar.events.create']!;
    expect(create.facts(create.params.parse(samples['calendar.events.create'])).calendarId).toBe(
      'primary',
    );
  });

  it('refuses bad parameters', () => {
    const send = ACTION_CATALOG['gmail.messages.send']!;
    expect(send.params.safeParse({ to: [], subject: 'x', body: 'y' }).success).toBe(false);
    expect(send.params.safeParse({ to: ['not an address'], subject: 'x', body: 'y' }).success).toBe(
      false,
    );
    expect(
      send.params.safeParse({ to: ['a@b.example'], subject: 'x', body: 'y', from: 'me' }).success,
    ).toBe(false);
    const buy = ACTION_CATALOG['purchase.create']!;
    expect(
      buy.params.safeParse({ ...(samples['purchase.create'] as object), currency: 'eur' }).success,
    ).toBe(false);
    const label = ACTION_CATALOG['gmail.messages.label']!;
    expect(label.params.safeParse({ messageId: 'm1' }).success).toBe(false);
  });

  it('knows no action outside the catalog, whatever the name', () => {
    for (const type of ['gmail.messages.delete', '__proto__', 'constructor', 'toString', '']) {
      expect(actionDefinition(type)).toBeUndefined();
    }
  });
});
