import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseObjects } from './kustomize.js';
import { REPO_ROOT } from './paths.js';

/** What a committed secret looks like, whatever file it is in. */
const REAL_LOOKING: ReadonlyArray<[string, RegExp]> = [
  ['a private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['an AWS access key id', /\bAKIA[0-9A-Z]{16}\b/],
  ['a Vault token', /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/],
  ['a GitHub token', /\bgh[pousr]_[A-Za-z0-9]{30,}/],
  ['a Google OAuth client secret', /\bGOCSPX-[A-Za-z0-9_-]{20,}/],
  ['an NATS nkey seed', /\bS[UAONC][A-Z2-7]{56}\b/],
  ['a bearer token', /\bBearer [A-Za-z0-9._~+/-]{30,}/],
];
/** A placeholder says so. */
const PLACEHOLDER = /EXAMPLE|REPLACE|CHANGE-?ME|^\[\]$/i;

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    files.push(...(entry.isDirectory() ? await filesUnder(path) : [path]));
  }
  return files;
}

/**
 * Scans deploy/, the Dockerfile context rules and docs/OPERATIONS.md for anything that looks like a
 * real secret, and checks that every value of the example Secrets is an obvious placeholder.
 */
export async function scanForSecrets(
  roots: readonly string[] = [join(REPO_ROOT, 'deploy'), join(REPO_ROOT, 'docs')],
): Promise<string[]> {
  const problems: string[] = [];
  for (const root of roots) {
    for (const file of await filesUnder(root)) {
      const text = await readFile(file, 'utf8');
      for (const [what, pattern] of REAL_LOOKING) {
        if (pattern.test(text)) problems.push(`${relative(REPO_ROOT, file)}: holds ${what}`);
      }
      if (file.includes(`${join('examples', 'secrets')}`) && file.endsWith('.yaml'))
        problems.push(...checkExampleSecrets(text, relative(REPO_ROOT, file)));
    }
  }
  return problems;
}

/** Each Secret's values must say they are examples; a Secret with `data` (base64) is refused. */
export function checkExampleSecrets(text: string, file: string): string[] {
  const problems: string[] = [];
  for (const object of parseObjects(text, file)) {
    if (object.kind !== 'Secret') continue;
    if (object.data !== undefined)
      problems.push(`${file}: ${object.metadata.name}: use stringData with placeholders, not data`);
    for (const [key, value] of Object.entries(
      (object.stringData ?? {}) as Record<string, string>,
    )) {
      const isName = key === 'username';
      if (!isName && !PLACEHOLDER.test(String(value)))
        problems.push(`${file}: ${object.metadata.name}.${key} is not an obvious placeholder`);
    }
  }
  return problems;
}
