// Compiles the parts of the OCSF schema HeroAgent's SIEM mapping uses into ocsf-schema.json, the
// fixture services/audit/test/ocsf-schema.test.ts validates produced events against.
// Usage: node compile-fixture.js <ocsf-schema git dir> <tag>   (e.g. a clone of ocsf/ocsf-schema, 1.8.0)
// The OCSF schema is Apache-2.0 licensed (https://github.com/ocsf/ocsf-schema/blob/main/LICENSE).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const [gitDir, tag] = process.argv.slice(2);
const read = (path) =>
  JSON.parse(
    execFileSync('git', ['--git-dir', gitDir, 'show', `${tag}:${path}`], { encoding: 'utf8' }),
  );
const dictionary = read('dictionary.json');
const types = dictionary.types.attributes;
const categories = read('categories.json').attributes;

// The JSON type a primitive OCSF type is carried as.
function baseType(type) {
  let current = type;
  while (types[current]?.type !== undefined) current = types[current].type;
  return current;
}

// A nearer definition refines a farther one; enumerations add up (a class's activities join the
// base event's Unknown and Other).
function merge(into, attributes, profile) {
  for (const [name, spec] of Object.entries(attributes)) {
    if (name.startsWith('$')) continue;
    // A class's own definition of an attribute a profile also brings makes it the class's.
    const { profile: _, ...before } = into[name] ?? {};
    into[name] = {
      ...before,
      ...spec,
      ...(before.enum && spec.enum ? { enum: { ...before.enum, ...spec.enum } } : {}),
      ...(profile === undefined ? {} : { profile }),
    };
  }
}

// A class or object with its ancestors' and included profiles' attributes, the nearest winning.
function resolve(kind, file) {
  const spec = read(file);
  const attributes = {};
  if (spec.extends !== undefined && spec.extends !== 'object') {
    const parent = kind === 'objects' ? `objects/${spec.extends}.json` : findEvent(spec.extends);
    merge(attributes, resolve(kind, parent).attributes);
  }
  // Included profiles' attributes belong to an event only when its metadata.profiles names them.
  for (const include of [spec.attributes?.$include ?? []].flat()) {
    const included = read(include);
    merge(attributes, included.attributes, included.meta === 'profile' ? included.name : undefined);
  }
  merge(attributes, spec.attributes ?? {});
  return { ...spec, attributes };
}

const eventFiles = execFileSync(
  'git',
  ['--git-dir', gitDir, 'ls-tree', '-r', '--name-only', tag, 'events'],
  {
    encoding: 'utf8',
  },
)
  .split('\n')
  .filter((path) => path.endsWith('.json'));
function findEvent(name) {
  return name === 'base_event'
    ? 'events/base_event.json'
    : eventFiles.find((path) => path.endsWith(`/${name}.json`));
}

function compileAttributes(attributes) {
  const result = {};
  for (const [name, spec] of Object.entries(attributes)) {
    const entry = dictionary.attributes[name];
    if (entry === undefined) throw new Error(`${name} is not in the dictionary`);
    const type = spec.type ?? entry.type;
    const enumeration = spec.enum ?? entry.enum;
    result[name] = {
      requirement: spec.requirement ?? 'optional',
      ...(typeof spec.profile === 'string' ? { profile: spec.profile } : {}),
      ...(type.endsWith('_t') ? { type: baseType(type) } : { object: type }),
      ...(entry.is_array ? { array: true } : {}),
      ...(enumeration === undefined ? {} : { enum: Object.keys(enumeration).map(Number) }),
    };
  }
  return result;
}

const CLASSES = [
  'events/iam/authentication.json',
  'events/iam/account_change.json',
  'events/iam/user_access.json',
  'events/application/api_activity.json',
];
const classes = {};
const objectNames = new Set();
for (const file of CLASSES) {
  const spec = resolve('events', file);
  const category = categories[spec.category ?? read(findEvent(spec.extends)).category];
  const attributes = compileAttributes(spec.attributes);
  const classUid = category.uid * 1000 + spec.uid;
  // The schema server fills these in per class (the sources hold placeholders): do the same.
  attributes.category_uid.enum = [category.uid];
  attributes.class_uid.enum = [classUid];
  attributes.type_uid.enum = attributes.activity_id.enum.map(
    (activity) => classUid * 100 + activity,
  );
  classes[classUid] = { name: spec.caption, category_uid: category.uid, attributes };
  for (const attribute of Object.values(attributes))
    if (attribute.object) objectNames.add(attribute.object);
}
const objects = {};
const queue = [...objectNames];
while (queue.length > 0) {
  const name = queue.shift();
  if (objects[name] !== undefined) continue;
  const spec = resolve('objects', `objects/${name}.json`);
  objects[name] = {
    attributes: compileAttributes(spec.attributes),
    at_least_one: spec.constraints?.at_least_one ?? [],
  };
  for (const attribute of Object.values(objects[name].attributes)) {
    if (attribute.object && objects[attribute.object] === undefined) queue.push(attribute.object);
  }
}
writeFileSync(
  new URL('./ocsf-schema.json', import.meta.url),
  `${JSON.stringify(
    {
      _source: `github.com/ocsf/ocsf-schema, tag ${tag}, compiled by compile-fixture.js `,
      _license: 'OCSF schema: Apache License 2.0, Copyright the OCSF contributors',
      version: read('version.json').version,
      classes,
      objects,
    },
    null,
    1,
  )}\n`,
);
