import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { HEROAGENT_CEDAR_SCHEMA } from './cedar-schema.js';

/**
 * Reading a policy set's text: parse it, check HeroAgent's annotations (`@id`, `@reason`,
 * `@approval`) and validate it against the Cedar schema. Problems come back as
 * `<code>: <message>` strings naming the policy and its line; nothing here throws for bad text.
 */

export type PolicyProblemCode =
  | 'syntax-error'
  | 'template-unsupported'
  | 'missing-id'
  | 'invalid-id'
  | 'duplicate-id'
  | 'reserved-id'
  | 'invalid-annotation'
  | 'unknown-annotation'
  | 'schema-error'
  | 'schema-warning';

/** Ids the engine reports itself; a tenant policy may not take them. */
export const SYNTHETIC_POLICY_IDS = [
  'default-deny',
  'policy-error',
  'unknown-action',
  'invalid-request',
] as const;

/** Ids with this prefix belong to the default policies. */
export const DEFAULT_ID_PREFIX = 'default-';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const KNOWN_ANNOTATIONS = new Set(['id', 'reason', 'approval']);

export interface PolicySummary {
  id: string;
  effect: 'permit' | 'forbid';
  approval: boolean;
  reason?: string;
}

/** A policy as the engine evaluates it: its summary and its own Cedar text. */
export interface ParsedPolicy extends PolicySummary {
  text: string;
}

export type PolicyTextCheck =
  { ok: true; policies: ParsedPolicy[] } | { ok: false; problems: string[] };

interface PolicyPart {
  /** 1-based position in the text, for messages. */
  ordinal: number;
  text: string;
  /** Offset of the policy in the whole text. */
  offset: number;
}

function problem(code: PolicyProblemCode, message: string): string {
  return `${code}: ${message}`;
}

function position(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, Math.max(0, offset)).split('\n').length;
}

function describe(error: cedar.DetailedError): string {
  return error.help === null ? error.message : `${error.message} (${error.help})`;
}

/**
 * The policies in text order. Cedar names policies `policy0`, `policy1`… in text order and
 * returns them sorted by that name (`policy10` before `policy2`), so the order is rebuilt here.
 */
function orderedParts(text: string, parts: readonly string[]): PolicyPart[] {
  const names = parts.map((_, index) => `policy${index}`).sort();
  const inOrder: string[] = new Array<string>(parts.length);
  names.forEach((name, sortedIndex) => {
    inOrder[Number(name.slice('policy'.length))] = parts[sortedIndex] ?? '';
  });
  let cursor = 0;
  return inOrder.map((policyText, index) => {
    const found = text.indexOf(policyText, cursor);
    const offset = found < 0 ? 0 : found;
    cursor = found < 0 ? cursor : found + policyText.length;
    return { ordinal: index + 1, text: policyText, offset };
  });
}

interface Annotated {
  part: PolicyPart;
  id?: string;
  summary?: PolicySummary;
}

function readAnnotations(
  source: string,
  part: PolicyPart,
  reserveIds: boolean,
  problems: string[],
): Annotated {
  const label = `policy #${part.ordinal} (line ${lineOf(source, part.offset)})`;
  const parsed = cedar.policyToJson(part.text);
  if (parsed.type === 'failure') {
    problems.push(problem('syntax-error', `${label}: ${parsed.errors.map(describe).join('; ')}`));
    return { part };
  }
  const { effect, annotations = {} } = parsed.json;
  const before = problems.length;
  const id = annotations['id'];
  if (id === undefined) {
    problems.push(problem('missing-id', `${label} has no @id("…"); every policy needs one`));
  } else if (id === null || !ID_PATTERN.test(id)) {
    problems.push(
      problem(
        'invalid-id',
        `${label}: @id must be 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
      ),
    );
  } else if (
    reserveIds &&
    (id.startsWith(DEFAULT_ID_PREFIX) || (SYNTHETIC_POLICY_IDS as readonly string[]).includes(id))
  ) {
    problems.push(
      problem('reserved-id', `${label}: @id("${id}") is reserved for HeroAgent's own policies`),
    );
  }
  const reason = annotations['reason'];
  if (reason === null || (reason !== undefined && reason.trim() === '')) {
    problems.push(problem('invalid-annotation', `${label}: @reason needs a sentence`));
  }
  const approval = annotations['approval'];
  if (approval !== undefined && approval !== 'required') {
    problems.push(
      problem('invalid-annotation', `${label}: @approval must be @approval("required")`),
    );
  } else if (approval !== undefined && effect === 'forbid') {
    problems.push(
      problem('invalid-annotation', `${label}: @approval applies to permit, not to forbid`),
    );
  }
  for (const name of Object.keys(annotations).filter((key) => !KNOWN_ANNOTATIONS.has(key))) {
    problems.push(
      problem('unknown-annotation', `${label}: @${name} is not known; use @id, @reason, @approval`),
    );
  }
  if (typeof id !== 'string' || problems.length > before) {
    return typeof id === 'string' ? { part, id } : { part };
  }
  return {
    part,
    id,
    summary: {
      id,
      effect,
      approval: approval === 'required',
      ...(typeof reason === 'string' ? { reason: reason.trim() } : {}),
    },
  };
}

function duplicateIdProblems(source: string, annotated: readonly Annotated[]): string[] {
  const byId = new Map<string, PolicyPart[]>();
  for (const { id, part } of annotated) {
    if (id !== undefined) byId.set(id, [...(byId.get(id) ?? []), part]);
  }
  return [...byId]
    .filter(([, parts]) => parts.length > 1)
    .map(([id, parts]) => {
      const where = parts.map((part) => `#${part.ordinal} (line ${lineOf(source, part.offset)})`);
      return problem('duplicate-id', `@id("${id}") is used by policies ${where.join(' and ')}`);
    });
}

let schemaJson: cedar.Schema | undefined;

/** The schema as JSON: cedar-wasm validates about twice as fast from it as from the text. */
function validationSchema(): cedar.Schema {
  if (schemaJson === undefined) {
    const converted = cedar.schemaToJson(HEROAGENT_CEDAR_SCHEMA);
    schemaJson = converted.type === 'success' ? converted.json : HEROAGENT_CEDAR_SCHEMA;
  }
  return schemaJson;
}

function schemaProblems(source: string, annotated: readonly Annotated[]): string[] {
  const counts = new Map<string, number>();
  for (const { id } of annotated) if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
  // Cedar names each policy by the key it is given: its @id when that is usable, else `#n`.
  const keyed = annotated.map((entry) => {
    const { id, part } = entry;
    const usable = id !== undefined && counts.get(id) === 1 && ID_PATTERN.test(id);
    return { key: usable ? id : `#${part.ordinal}`, part };
  });
  const answer = cedar.validate({
    schema: validationSchema(),
    policies: {
      staticPolicies: Object.fromEntries(keyed.map(({ key, part }) => [key, part.text])),
    },
  });
  if (answer.type === 'failure') {
    return answer.errors.map((error) => problem('schema-error', describe(error)));
  }
  const byKey = new Map(keyed.map(({ key, part }) => [key, part]));
  const explain = (code: PolicyProblemCode, found: cedar.ValidationError) => {
    const part = byKey.get(found.policyId);
    const start = (part?.offset ?? 0) + (found.error.sourceLocations?.[0]?.start ?? 0);
    const name = part === undefined ? found.policyId : `policy "${found.policyId}"`;
    // Cedar reports a context error once per action the policy applies to: say it once.
    const message = describe(found.error)
      .replace(/^for policy `[^`]*`, /, '')
      .replace(/ in context for [A-Za-z:]+::"[^"]*"/, ' in context');
    const text = problem(code, `${name} (${position(source, start)}): ${message}`);
    return { ordinal: part?.ordinal ?? 0, warning: code === 'schema-warning', start, text };
  };
  const found = [
    ...answer.validationErrors.map((error) => explain('schema-error', error)),
    ...answer.validationWarnings.map((warning) => explain('schema-warning', warning)),
  ];
  // Cedar's order is not stable across runs: report by policy, errors first, then position.
  found.sort(
    (a, b) =>
      a.ordinal - b.ordinal ||
      Number(a.warning) - Number(b.warning) ||
      a.start - b.start ||
      (a.text < b.text ? -1 : 1),
  );
  return [...new Set(found.map((entry) => entry.text))];
}

/**
 * Parses and validates a policy set's text. `reserveIds` refuses the ids HeroAgent keeps for
 * itself (tenant text); the default policies are read without it.
 */
export function readPolicyText(source: string, options: { reserveIds: boolean }): PolicyTextCheck {
  const split = cedar.policySetTextToParts(source);
  if (split.type === 'failure') {
    const problems = split.errors.map((error) => {
      const start = error.sourceLocations?.[0]?.start;
      const where = start === undefined ? '' : `${position(source, start)}: `;
      return problem('syntax-error', `${where}${describe(error)}`);
    });
    return { ok: false, problems };
  }
  if (split.policy_templates.length > 0) {
    return {
      ok: false,
      problems: [problem('template-unsupported', 'templates (?principal, ?resource) are not used')],
    };
  }
  const problems: string[] = [];
  const annotated = orderedParts(source, split.policies).map((part) =>
    readAnnotations(source, part, options.reserveIds, problems),
  );
  problems.push(...duplicateIdProblems(source, annotated));
  if (annotated.length > 0) problems.push(...schemaProblems(source, annotated));
  if (problems.length > 0) return { ok: false, problems };
  const policies = annotated.flatMap(({ part, summary }) =>
    summary === undefined ? [] : [{ ...summary, text: part.text }],
  );
  return { ok: true, policies };
}
