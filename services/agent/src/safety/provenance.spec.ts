import { describe, expect, it } from 'vitest';
import {
  createEvent,
  purchase,
  searchMessages,
  sendMessage,
  updateEvent,
} from '@heroagent/contracts';
import { Provenance } from './provenance.js';

describe('Provenance', () => {
  it('trusts a recipient the person named, and no other', () => {
    const provenance = new Provenance('Send Bob (bob@example.com) the agenda.', {});
    expect(
      provenance.untrustedParams(sendMessage, {
        to: ['bob@example.com'],
        cc: [],
        bcc: [],
        subject: 'Agenda',
        body: 'attached',
      }),
    ).toEqual([]);
    expect(
      provenance.untrustedParams(sendMessage, {
        to: ['bob@example.com'],
        cc: [],
        bcc: ['exfil@evil.example'],
        subject: 'Agenda',
        body: '',
      }),
    ).toEqual(['bcc']);
  });

  it('does not take a longer address for the one named', () => {
    const provenance = new Provenance('Mail bob@example.com', {});
    for (const address of ['bob@example.com.evil.io', 'xbob@example.com', 'bob@example.co']) {
      expect(
        provenance.untrustedParams(sendMessage, { to: [address], subject: '', body: '' }),
      ).toEqual(['to']);
    }
  });

  it('trusts the recipients the task limits name', () => {
    const provenance = new Provenance('invite my manager', { recipients: ['ann@corp.example'] });
    expect(
      provenance.untrustedParams(createEvent, {
        calendarId: 'primary',
        summary: 'Sync',
        start: { dateTime: '2026-11-30T10:00:00Z' },
        end: { dateTime: '2026-11-30T10:30:00Z' },
        attendees: ['ann@corp.example'],
      }),
    ).toEqual([]);
    expect(
      provenance.untrustedParams(updateEvent, {
        calendarId: 'primary',
        eventId: 'e1',
        changes: { attendees: ['ann@corp.example', 'mallory@evil.example'] },
      }),
    ).toEqual(['changes.attendees']);
  });

  it('trusts an amount and a merchant the person stated, not one read elsewhere', () => {
    const provenance = new Provenance('Buy the $25.00 notebook at paper-shop', {});
    const order = { merchant: 'paper-shop', item: 'notebook', quantity: 1, currency: 'USD' };
    expect(provenance.untrustedParams(purchase, { ...order, amountMinor: 2500 })).toEqual([]);
    expect(provenance.untrustedParams(purchase, { ...order, amountMinor: 25000 })).toEqual([
      'amountMinor',
    ]);
    expect(
      provenance.untrustedParams(purchase, { ...order, merchant: 'gift-cards', amountMinor: 2500 }),
    ).toEqual(['merchant']);
    expect(
      new Provenance('buy it at the paper shop', {}).untrustedParams(purchase, {
        ...order,
        amountMinor: 2500,
      }),
    ).toEqual(['amountMinor']);
  });

  it('does not look at reads', () => {
    expect(new Provenance('', {}).untrustedParams(searchMessages, { query: 'x' })).toEqual([]);
  });
});
