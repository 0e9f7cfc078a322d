import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { fromBase64Url, keyRing, type KeyRing } from '@heroagent/crypto';
import { SecretsError } from '../secrets-backend.js';

const keyFileSchema = z.strictObject({
  format: z.literal('heroagent.embedded-keys'),
  version: z.literal(1),
  current: z.number().int().positive(),
  keys: z.record(
    z.string().regex(/^[1-9][0-9]*$/),
    z.string().refine((text) => fromBase64Url(text)?.length === 32, 'a 32-byte key'),
  ),
});
type KeyFile = z.infer<typeof keyFileSchema>;

/**
 * The embedded store's master keys: versioned AES-256 keys in a local file (mode 0600). New
 * secrets use the current version; older versions stay until everything is rewrapped.
 */
export async function loadKeyFile(path: string): Promise<KeyRing> {
  const parsed = await readKeyFile(path);
  return keyRing(
    new Map(
      Object.entries(parsed.keys).map(([version, key]) => [Number(version), fromBase64Url(key)!]),
    ),
    parsed.current,
  );
}

async function readKeyFile(path: string): Promise<KeyFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SecretsError(
      'UNAVAILABLE',
      `cannot read the embedded key file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let parsed: KeyFile;
  try {
    parsed = keyFileSchema.parse(JSON.parse(text));
  } catch {
    throw new SecretsError('INVALID', `${path} is not an embedded key file`);
  }
  if (parsed.keys[String(parsed.current)] === undefined)
    throw new SecretsError('INVALID', `${path} names a current key version it does not hold`);
  return parsed;
}

/** Creates a key file with one key (version 1), unless it exists. */
export async function createKeyFile(path: string): Promise<boolean> {
  const file: KeyFile = {
    format: 'heroagent.embedded-keys',
    version: 1,
    current: 1,
    keys: { '1': randomBytes(32).toString('base64url') },
  };
  try {
    await writeFile(path, serialise(file), { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new SecretsError(
      'UNAVAILABLE',
      `cannot create the embedded key file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/**
 * Adds a new key version and makes it current; the store rewraps to it at its next start. The
 * file is replaced atomically (written beside it, then renamed), so a crash mid-rotation leaves
 * either the old file or the new one, never a torn one that would lose every key.
 */
export async function rotateKeyFile(path: string): Promise<number> {
  const file = await readKeyFile(path);
  const next = Math.max(...Object.keys(file.keys).map(Number)) + 1;
  const rotated: KeyFile = {
    ...file,
    current: next,
    keys: { ...file.keys, [String(next)]: randomBytes(32).toString('base64url') },
  };
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, serialise(rotated), { mode: 0o600, flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new SecretsError(
      'UNAVAILABLE',
      `cannot write the embedded key file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  return next;
}

function serialise(file: KeyFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
