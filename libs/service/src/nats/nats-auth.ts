import { readFileSync } from 'node:fs';
import { nkeyAuthenticator, nkeys, type Authenticator } from '@nats-io/nats-core';
import { z } from 'zod';
import type { IssueSink } from '../transport-security.js';

/** Why a seed file was refused, or undefined when it holds a user nkey seed. */
function seedFileProblem(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`;
  }
  // Only the first line counts (`nk -gen user` ends it with a newline); the seed is never echoed.
  const seed = text.split('\n')[0]!.trim();
  try {
    if (seed.startsWith('SU') && nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey())
      return undefined;
  } catch {
    // refused below
  }
  return 'must hold a NATS user nkey seed (SU…, as `nk -gen user` or `pnpm nats:nkeys` makes it)';
}

/**
 * An optional path to a file holding a NATS user's nkey seed (`SU…`): checked readable and a
 * well-formed user seed at boot, so a bad file stops the process naming the variable.
 */
export const nkeySeedFileSchema = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value))
  .superRefine((path, context) => {
    if (path === undefined) return;
    const problem = seedFileProblem(path);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  });

/** The seed in `path`, as nats.js takes it (read at each use, so a rotated file is picked up). */
export function readNkeySeed(path: string): Uint8Array {
  return new TextEncoder().encode(readFileSync(path, 'utf8').split('\n')[0]!.trim());
}

/** The public key (`U…`) of the seed in `path`: what nats-server's `nkey:` names. */
export function nkeyPublicKeyOf(path: string): string {
  return nkeys.fromSeed(readNkeySeed(path)).getPublicKey();
}

/** The nats.js authenticator signing the server's nonce with the seed in `path`. */
export function nkeySeedAuthenticator(path: string): Authenticator {
  return nkeyAuthenticator(() => readNkeySeed(path));
}

/** The NATS authentication variables {@link checkNatsAuth} reads. */
interface NatsAuthEnv {
  readonly NATS_USER?: string | undefined;
  readonly NATS_PASSWORD?: string | undefined;
  readonly NATS_NKEY_SEED_FILE?: string | undefined;
}

/**
 * The rules between the NATS authentication variables: a user and password, or an nkey seed,
 * never both (an nkey user has no name: nats-server knows it by its public key). The inbox prefix
 * does not depend on either: it is the identity the code connects as (`_INBOX.<identity>`).
 */
export function checkNatsAuth(env: NatsAuthEnv, sink: IssueSink): void {
  if (env.NATS_NKEY_SEED_FILE === undefined) return;
  for (const name of ['NATS_PASSWORD', 'NATS_USER'] as const) {
    if (env[name] !== undefined) {
      sink.addIssue({
        code: 'custom',
        path: [name],
        message:
          'must not be set with NATS_NKEY_SEED_FILE: authenticate with a user and password or with an nkey, not both',
      });
    }
  }
}
