import { describe, expect, it } from 'vitest';
import { deriveActions } from './derive-actions.js';

const actionsOf = (request: string) =>
  deriveActions(request)
    .map((derived) => derived.action)
    .sort();

const MAIL_READS = ['gmail.messages.read', 'gmail.messages.search'];
const CALENDAR_READS = ['calendar.events.list', 'calendar.freebusy'];

describe('the actions a request in words asks for', () => {
  it('lets a request to read only read', () => {
    expect(actionsOf('Summarise the latest mail from carol@example.com.')).toEqual(MAIL_READS);
    expect(actionsOf('What is on my calendar on 2027-01-04?')).toEqual(CALENDAR_READS);
    expect(actionsOf('Tell me what Carol wrote about the budget.')).toEqual(MAIL_READS);
  });

  it('grants a write only for the words that ask for it', () => {
    expect(
      actionsOf("Reply to Dave's latest mail (dave@example.com) saying I will attend."),
    ).toEqual([...MAIL_READS, 'gmail.messages.send'].sort());
    expect(
      actionsOf(
        'Forward the latest invoice from billing@acme.example to my accountant ann@corp.example.',
      ),
    ).toEqual([...MAIL_READS, 'gmail.messages.send'].sort());
    expect(actionsOf('Tell whoever sent me the contract draft that I received it.')).toEqual(
      [...MAIL_READS, 'gmail.messages.send'].sort(),
    );
    expect(actionsOf('Say hello to my new contact.')).toEqual(
      [...MAIL_READS, 'gmail.messages.send'].sort(),
    );
    expect(actionsOf('What did Carol say to the team about the budget?')).not.toContain(
      'gmail.messages.send',
    );
    expect(actionsOf('Write a draft answering Erin, but do not send it.')).toEqual(
      [...MAIL_READS, 'gmail.drafts.create'].sort(),
    );
    expect(
      actionsOf("Look through my mail for invoices without deleting anything; don't reply."),
    ).toEqual(MAIL_READS);
    expect(actionsOf('Draft a reply to Erin about the offsite.')).toEqual(
      [...MAIL_READS, 'gmail.drafts.create'].sort(),
    );
    expect(actionsOf('Archive the newsletters from Paper Shop.')).toEqual(
      [...MAIL_READS, 'gmail.messages.archive'].sort(),
    );
    expect(actionsOf('Delete the spam about crypto.')).toEqual(
      [...MAIL_READS, 'gmail.messages.trash'].sort(),
    );
    expect(actionsOf('Label the mails from the bank as Finance.')).toEqual(
      [...MAIL_READS, 'gmail.messages.label'].sort(),
    );
    expect(actionsOf('Email me a summary of what Carol sent this week.')).toEqual(
      [...MAIL_READS, 'gmail.messages.send'].sort(),
    );
  });

  it('keeps the calendar and mail apart: an invitation is not a mail', () => {
    expect(
      actionsOf(
        'Find 30 minutes with bob@example.com on 2027-01-02 between 09:00 and 12:00 UTC and invite him.',
      ),
    ).toEqual([...CALENDAR_READS, 'calendar.events.create'].sort());
    // Sam is named by name: his address is found in mail, so mail may be read, not sent.
    expect(actionsOf('Find 30 minutes with Sam next week and send him an invite.')).toEqual(
      [...CALENDAR_READS, ...MAIL_READS, 'calendar.events.create'].sort(),
    );
    expect(actionsOf('Add carol@example.com to the budget review on 2027-03-12.')).toContain(
      'calendar.events.update',
    );
    expect(actionsOf('Move my 3pm meeting with Ada to 4pm.')).toEqual(
      [...CALENDAR_READS, 'calendar.events.update'].sort(),
    );
    expect(actionsOf('Cancel the board review on Friday.')).toEqual(
      [...CALENDAR_READS, 'calendar.events.delete'].sort(),
    );
  });

  it('grants purchases only when asked to buy, and mail reads to buy again', () => {
    expect(actionsOf('Reorder the printer ink I last bought at paper-shop.')).toEqual(
      [...MAIL_READS, 'purchase.create'].sort(),
    );
    expect(
      actionsOf(
        'Buy the notebook Paper Shop recommends in their latest mail, at paper-shop, for $12.',
      ),
    ).toEqual([...MAIL_READS, 'purchase.create'].sort());
  });

  it('says why, quoting the words', () => {
    expect(deriveActions('Reply to Dave saying yes.')).toEqual([
      { action: 'gmail.messages.send', because: '"reply"' },
      { action: 'gmail.messages.search', because: '"reply"' },
      { action: 'gmail.messages.read', because: '"reply"' },
    ]);
  });

  it('grants nothing to write for words that ask to know, or name no action', () => {
    const writes = (request: string) =>
      actionsOf(request).filter((action) => !/\.(search|read|list|freebusy)$/.test(action));
    for (const request of [
      'Summarise my inbox and let me know what is urgent.',
      'Did Bob reply to my proposal?',
      'Can you tell if Carol answered?',
      'Is my calendar clear on Friday?',
      'Did anything change in my calendar this week?',
      'Where is my order from the paper shop?',
      'Check out the newsletter from Paper Shop.',
      'Summarise the marketing newsletters.',
      'Did my $40 order from the paper shop arrive?',
    ]) {
      expect(writes(request), request).toEqual([]);
    }
    // Put as a question, a request still asks to act.
    expect(actionsOf('Can you reply to Bob saying yes?')).toContain('gmail.messages.send');
  });

  it('lets a request that names nothing it can do only read', () => {
    expect(actionsOf('Help me get organised.')).toEqual([...CALENDAR_READS, ...MAIL_READS].sort());
  });
});
