import { describe, expect, it } from 'vitest';
import { CatalogTools } from './catalog-tools.js';

describe('CatalogTools', () => {
  const tools = new CatalogTools([
    'gmail.messages.send',
    'gmail.messages.label',
    'calendar.events.create',
    'purchase.create',
  ]);

  it('offers exactly the actions of the capability, under names a model API accepts', () => {
    expect(tools.list().map((tool) => tool.name)).toEqual([
      'gmail_messages_send',
      'gmail_messages_label',
      'calendar_events_create',
      'purchase_create',
    ]);
    for (const tool of tools.list()) expect(tool.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(tools.find('gmail_messages_search')).toBeUndefined();
    expect(tools.find('gmail.messages.send')).toBeUndefined();
  });

  it('generates each input schema from the catalog, with a required rationale', () => {
    const send = tools.find('gmail_messages_send')!;
    expect(send.action.type).toBe('gmail.messages.send');
    const schema = send.inputSchema as {
      properties: Record<string, { type?: string }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['to', 'cc', 'bcc', 'subject', 'body', 'inReplyTo', 'rationale']),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['to', 'subject', 'body', 'rationale']));
    expect(schema.required).not.toContain('cc');
    expect(schema.additionalProperties).toBe(false);
    expect(send.description).toMatch(/undo window/);
    expect(tools.find('purchase_create')!.description).toMatch(/Cannot be undone/);
  });

  it('skips an action the catalog does not have', () => {
    expect(new CatalogTools(['gmail.messages.teleport']).list()).toEqual([]);
  });
});
