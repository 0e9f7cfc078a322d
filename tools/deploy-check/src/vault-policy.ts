import { DeployCheckError } from './errors.js';

export type VaultCapability =
  | 'create'
  | 'read'
  | 'update'
  | 'patch'
  | 'delete'
  | 'list'
  | 'sudo'
  | 'deny'
  | 'subscribe'
  | 'recover';
const CAPABILITIES = new Set<string>([
  'create',
  'read',
  'update',
  'patch',
  'delete',
  'list',
  'sudo',
  'deny',
  'subscribe',
  'recover',
]);

/** One `path "…" { capabilities = […] }` stanza of a Vault policy. */
export interface VaultPolicyRule {
  readonly path: string;
  readonly capabilities: readonly VaultCapability[];
}

/**
 * Parses the subset of Vault's policy HCL that deploy/vault uses: `path` stanzas with a
 * `capabilities` list and nothing else (no parameter constraints, no templating). Anything else is
 * refused by line, so a policy never holds what this check did not read.
 */
export function parseVaultPolicy(text: string): VaultPolicyRule[] {
  const withoutComments = text
    .split('\n')
    .map((line) => line.replace(/\s*(#|\/\/).*$/, ''))
    .join('\n');
  const stanza = /path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;
  const rules: VaultPolicyRule[] = [];
  let rest = withoutComments;
  for (const match of withoutComments.matchAll(stanza)) {
    const capabilities = match[2]!
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)
      .map((item) => {
        const unquoted = /^"([a-z]+)"$/.exec(item)?.[1];
        if (unquoted === undefined || !CAPABILITIES.has(unquoted))
          throw new DeployCheckError(
            'POLICY_INVALID',
            `path "${match[1]}": bad capability ${item}`,
          );
        return unquoted as VaultCapability;
      });
    if (capabilities.length === 0)
      throw new DeployCheckError('POLICY_INVALID', `path "${match[1]}" grants nothing`);
    if (rules.some((rule) => rule.path === match[1]))
      throw new DeployCheckError('POLICY_INVALID', `path "${match[1]}" appears twice`);
    rules.push({ path: match[1]!, capabilities });
    rest = rest.replace(match[0], '');
  }
  const leftover = rest.trim();
  if (leftover !== '')
    throw new DeployCheckError(
      'POLICY_INVALID',
      `unsupported policy text: ${leftover.split('\n')[0]!.slice(0, 80)}`,
    );
  if (rules.length === 0) throw new DeployCheckError('POLICY_INVALID', 'the policy has no path');
  return rules;
}

/**
 * Whether a policy path matches a request path as Vault matches them: `+` is one whole path
 * segment, a trailing `*` a prefix; otherwise exact.
 */
export function policyPathMatches(pattern: string, path: string): boolean {
  const prefix = pattern.endsWith('*');
  const patternSegments = (prefix ? pattern.slice(0, -1) : pattern).split('/');
  const pathSegments = path.split('/');
  if (prefix) {
    // Every segment but the last must match exactly (or `+`); the last is a string prefix.
    const last = patternSegments.length - 1;
    if (pathSegments.length < patternSegments.length) return false;
    for (let index = 0; index < last; index += 1) {
      if (patternSegments[index] !== '+' && patternSegments[index] !== pathSegments[index])
        return false;
    }
    return pathSegments.slice(last).join('/').startsWith(patternSegments[last]!);
  }
  if (patternSegments.length !== pathSegments.length) return false;
  return patternSegments.every(
    (segment, index) =>
      (segment === '+' && pathSegments[index] !== '') || segment === pathSegments[index],
  );
}

/** The capability a request needs; a POST that may create needs `create` too. */
export function capabilitiesFor(method: string, mayCreate: boolean): VaultCapability[] {
  switch (method) {
    case 'GET':
      return ['read'];
    case 'LIST':
      return ['list'];
    case 'DELETE':
      return ['delete'];
    default:
      return mayCreate ? ['create', 'update'] : ['update'];
  }
}
