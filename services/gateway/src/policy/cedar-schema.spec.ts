import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { ACTION_CATALOG } from '@heroagent/contracts';
import { describe, expect, it } from 'vitest';
import {
  ACTION_ENTITIES,
  ACTION_GROUP_IDS,
  HEROAGENT_CEDAR_SCHEMA,
  actionFamily,
} from './cedar-schema.js';

describe('the Cedar schema', () => {
  it('parses', () => {
    expect(cedar.checkParseSchema(HEROAGENT_CEDAR_SCHEMA)).toEqual({ type: 'success' });
  });

  it('groups actions by class and by provider family', () => {
    expect(ACTION_GROUP_IDS).toEqual([
      'read',
      'reversible',
      'irreversible',
      'calendar',
      'gmail',
      'purchase',
    ]);
    expect(actionFamily('gmail.messages.send')).toBe('gmail');
  });

  it('declares every catalog action, a member of its class and family', () => {
    for (const definition of Object.values(ACTION_CATALOG)) {
      expect(HEROAGENT_CEDAR_SCHEMA).toContain(
        `action "${definition.type}" in ["${definition.class}", "${actionFamily(definition.type)}"]`,
      );
      const entity = ACTION_ENTITIES.find((e) => 'id' in e.uid && e.uid.id === definition.type);
      expect(entity?.parents).toEqual([
        { type: 'HeroAgent::Action', id: definition.class },
        { type: 'HeroAgent::Action', id: actionFamily(definition.type) },
      ]);
    }
    expect(ACTION_ENTITIES).toHaveLength(
      ACTION_GROUP_IDS.length + Object.keys(ACTION_CATALOG).length,
    );
  });

  it('gives the context the attributes policies read', () => {
    const json = cedar.schemaToJson(HEROAGENT_CEDAR_SCHEMA);
    expect(json.type).toBe('success');
    if (json.type !== 'success') return;
    const context = json.json['HeroAgent']?.commonTypes?.['ActionContext'];
    expect(context).toMatchObject({ type: 'Record' });
    const attributes = context !== undefined && 'attributes' in context ? context.attributes : {};
    expect(Object.keys(attributes).sort()).toEqual(
      [
        'actionsLastDay',
        'actionsLastHour',
        'amountMinor',
        'calendarId',
        'class',
        'currency',
        'hasAmount',
        'hour',
        'recipientDomains',
        'recipients',
        'sameActionLastHour',
        'spentTodayMinor',
        'weekday',
      ].sort(),
    );
  });
});
