import { readFileSync } from 'node:fs';

/** One attribute as the compiled fixture describes it (see compile-fixture.js). */
interface OcsfAttribute {
  readonly requirement: 'required' | 'recommended' | 'optional';
  readonly type?: string;
  readonly object?: string;
  readonly array?: boolean;
  readonly enum?: readonly number[];
  /** Present only when metadata.profiles names this profile. */
  readonly profile?: string;
}
interface OcsfSchema {
  readonly version: string;
  readonly classes: Record<
    string,
    { name: string; category_uid: number; attributes: Record<string, OcsfAttribute> }
  >;
  readonly objects: Record<
    string,
    { attributes: Record<string, OcsfAttribute>; at_least_one: readonly string[] }
  >;
}

/** The OCSF 1.8.0 classes and objects HeroAgent's SIEM mapping uses (Apache-2.0, see the file). */
export const OCSF_SCHEMA = JSON.parse(
  readFileSync(new URL('./ocsf-schema.json', import.meta.url), 'utf8'),
) as OcsfSchema;

type Json = unknown;
const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function primitiveProblem(path: string, value: Json, type: string): string | undefined {
  const ok =
    type === 'string_t'
      ? typeof value === 'string'
      : type === 'integer_t' || type === 'long_t'
        ? Number.isInteger(value)
        : type === 'float_t'
          ? typeof value === 'number'
          : type === 'boolean_t'
            ? typeof value === 'boolean'
            : type === 'json_t';
  return ok ? undefined : `${path}: ${JSON.stringify(value)} is not ${type}`;
}

function valueProblems(path: string, value: Json, attribute: OcsfAttribute, profiles: string[]) {
  if (attribute.array) {
    if (!Array.isArray(value)) return [`${path}: is not an array`];
    return value.flatMap((item, index): string[] =>
      valueProblems(`${path}[${index}]`, item, { ...attribute, array: false }, profiles),
    );
  }
  if (attribute.object !== undefined) {
    if (!isObject(value)) return [`${path}: is not an object`];
    // `unmapped` (of the base type `object`) takes anything.
    const object =
      attribute.object === 'object' ? undefined : OCSF_SCHEMA.objects[attribute.object];
    if (object === undefined) return [];
    return attributeProblems(path, value, object.attributes, profiles, object.at_least_one);
  }
  const problems: string[] = [];
  const typed = primitiveProblem(path, value, attribute.type ?? 'json_t');
  if (typed !== undefined) problems.push(typed);
  if (attribute.enum !== undefined && !attribute.enum.includes(value as number)) {
    problems.push(`${path}: ${JSON.stringify(value)} is not one of ${attribute.enum.join(', ')}`);
  }
  return problems;
}

function attributeProblems(
  path: string,
  value: Record<string, Json>,
  attributes: Record<string, OcsfAttribute>,
  profiles: string[],
  atLeastOne: readonly string[] = [],
): string[] {
  const problems: string[] = [];
  const applies = (attribute: OcsfAttribute) =>
    attribute.profile === undefined || profiles.includes(attribute.profile);
  for (const [name, item] of Object.entries(value)) {
    const attribute = attributes[name];
    if (attribute === undefined) problems.push(`${path}.${name}: is not an OCSF attribute here`);
    else if (!applies(attribute)) {
      problems.push(`${path}.${name}: needs the ${attribute.profile} profile in metadata.profiles`);
    } else problems.push(...valueProblems(`${path}.${name}`, item, attribute, profiles));
  }
  for (const [name, attribute] of Object.entries(attributes)) {
    if (attribute.requirement === 'required' && applies(attribute) && !(name in value)) {
      problems.push(`${path}.${name}: is required`);
    }
  }
  if (atLeastOne.length > 0 && !atLeastOne.some((name) => name in value)) {
    problems.push(`${path}: needs at least one of ${atLeastOne.join(', ')}`);
  }
  return problems;
}

/**
 * What is wrong with an OCSF event by the schema: its class exists; every attribute is one of
 * the class's (or of a profile it declares), with the right type and an allowed enum value; every
 * required attribute and object attribute is present; category and type_uid follow from the class
 * and activity (`type_uid = class_uid * 100 + activity_id`). Empty when it is valid.
 */
export function ocsfProblems(event: Record<string, Json>): string[] {
  const definition = OCSF_SCHEMA.classes[String(event.class_uid)];
  if (definition === undefined) return [`class_uid ${String(event.class_uid)} is not known`];
  const metadata = isObject(event.metadata) ? event.metadata : {};
  const profiles = Array.isArray(metadata.profiles)
    ? metadata.profiles.filter((name) => typeof name === 'string')
    : [];
  const problems = attributeProblems('event', event, definition.attributes, profiles);
  if (event.category_uid !== definition.category_uid) {
    problems.push(`category_uid is ${String(event.category_uid)}, not ${definition.category_uid}`);
  }
  if (event.type_uid !== Number(event.class_uid) * 100 + Number(event.activity_id)) {
    problems.push(`type_uid ${String(event.type_uid)} is not class_uid * 100 + activity_id`);
  }
  if (event.class_name !== undefined && event.class_name !== definition.name) {
    problems.push(`class_name is ${JSON.stringify(event.class_name)}, not ${definition.name}`);
  }
  return problems;
}
