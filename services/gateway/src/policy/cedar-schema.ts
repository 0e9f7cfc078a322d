import { ACTION_CATALOG, ACTION_CLASSES, type ActionDefinition } from '@heroagent/contracts';
import type * as cedar from '@cedar-policy/cedar-wasm/nodejs';

/**
 * HeroAgent's Cedar model. Tenant policies are validated against this schema, so a misspelt
 * attribute or action is refused when it is saved instead of silently never matching. Action ids
 * are the catalog's types; each action is a member of its class group (`read`, `reversible`,
 * `irreversible`) and of its provider family (`gmail`, `calendar`, `purchase`: the type's first
 * segment). Everything is generated from ACTION_CATALOG, so a new catalog action is covered
 * without touching this file.
 */

export const CEDAR_NAMESPACE = 'HeroAgent';
export const USER_TYPE = `${CEDAR_NAMESPACE}::User`;
export const TASK_TYPE = `${CEDAR_NAMESPACE}::Task`;
export const ACTION_TYPE = `${CEDAR_NAMESPACE}::Action`;

/** The request context every action is evaluated with (see policy-request.ts). */
const CONTEXT_ATTRIBUTES: readonly (readonly [name: string, type: string])[] = [
  ['class', 'String'],
  ['recipients', 'Set<String>'],
  ['recipientDomains', 'Set<String>'],
  ['calendarId', 'String'],
  ['hasAmount', 'Bool'],
  ['amountMinor', 'Long'],
  ['currency', 'String'],
  ['spentTodayMinor', 'Long'],
  ['hour', 'Long'],
  ['weekday', 'Long'],
  ['actionsLastHour', 'Long'],
  ['actionsLastDay', 'Long'],
  ['sameActionLastHour', 'Long'],
];

/** The provider family of an action type: its first segment (`gmail.messages.send` → `gmail`). */
export function actionFamily(type: string): string {
  return type.split('.', 1)[0] ?? type;
}

function catalogActions(): ActionDefinition[] {
  return Object.values(ACTION_CATALOG).sort((a, b) => (a.type < b.type ? -1 : 1));
}

/** The action groups an action belongs to, class first. */
export function actionGroups(definition: ActionDefinition): [string, string] {
  return [definition.class, actionFamily(definition.type)];
}

function groupIds(): string[] {
  const families = [...new Set(catalogActions().map((action) => actionFamily(action.type)))];
  const groups = [...ACTION_CLASSES, ...families];
  const clash = groups.find(
    (group, index) => groups.indexOf(group) !== index || Object.hasOwn(ACTION_CATALOG, group),
  );
  if (clash !== undefined) {
    // A family named like a class or an action would merge two groups; refuse at boot.
    throw new Error(`action group "${clash}" is ambiguous in the Cedar schema`);
  }
  return groups;
}

/** Every action group: the classes, then the provider families in catalog order. */
export const ACTION_GROUP_IDS: readonly string[] = groupIds();

function cedarString(value: string): string {
  return JSON.stringify(value);
}

function schemaText(): string {
  const context = CONTEXT_ATTRIBUTES.map(([name, type]) => `    ${name}: ${type},`).join('\n');
  const actions = catalogActions().map((definition) => {
    const parents = actionGroups(definition).map(cedarString).join(', ');
    return (
      `  action ${cedarString(definition.type)} in [${parents}]\n` +
      `    appliesTo { principal: [User], resource: [Task], context: ActionContext };`
    );
  });
  return [
    `namespace ${CEDAR_NAMESPACE} {`,
    '  entity User = { role: String };',
    '  entity Task;',
    '  type ActionContext = {',
    context,
    '  };',
    `  action ${ACTION_GROUP_IDS.map(cedarString).join(', ')};`,
    ...actions,
    '}',
    '',
  ].join('\n');
}

/** The Cedar schema (human-readable syntax) tenant policies are validated against. */
export const HEROAGENT_CEDAR_SCHEMA: string = schemaText();

function actionUid(id: string): cedar.TypeAndId {
  return { type: ACTION_TYPE, id };
}

/** The action entities with their group parents, so `action in HeroAgent::Action::"…"` works. */
export const ACTION_ENTITIES: readonly cedar.EntityJson[] = [
  ...ACTION_GROUP_IDS.map((group) => ({ uid: actionUid(group), attrs: {}, parents: [] })),
  ...catalogActions().map((definition) => ({
    uid: actionUid(definition.type),
    attrs: {},
    parents: actionGroups(definition).map(actionUid),
  })),
];
