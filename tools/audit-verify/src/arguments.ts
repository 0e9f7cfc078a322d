/** What the command line asked for. */
export interface VerifyArguments {
  /** A file path, or `-` for standard input; absent when only a consistency answer is checked. */
  readonly bundle: string | undefined;
  readonly trusted: ReadonlySet<string>;
  readonly pinned: boolean;
  readonly requireCoveredTail: boolean;
  readonly json: boolean;
  /** A checkpoint kept earlier, which the bundle or the consistency answer must extend. */
  readonly since: string | undefined;
  /** The oldest the latest checkpoint of a consistency answer may be, in seconds. */
  readonly maxAgeSeconds: number;
  /** Where the consistency answer comes from, when there is no bundle. */
  readonly consistency:
    | { readonly kind: 'file'; readonly path: string }
    | { readonly kind: 'gateway'; readonly url: URL; readonly sessionFile: string }
    | undefined;
}

/** The default --max-age: the hourly checkpoint, plus half an hour for the checkpointer and clocks. */
export const DEFAULT_MAX_AGE_S = 5400;

/** A command line that cannot be run; the message says what is wrong and how to fix it. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

export const USAGE = `usage: pnpm audit:verify <bundle.jsonl | -> --trust <fingerprint>[,<fingerprint>…] [--since <kept checkpoint>] [options]
       pnpm audit:verify --since <kept checkpoint> --trust <fingerprint> --consistency <answer.json>
       pnpm audit:verify --since <kept checkpoint> --trust <fingerprint> --gateway <https://…> --session-file <file>

Verifies a HeroAgent audit bundle offline: every event signature, the hash chain, and every
checkpoint (signature, Merkle root, chain head, number and link to the previous one). Names the
first bad record. With --since, also proves the record extends a checkpoint you kept earlier:
from a bundle (its events must hash to the kept root, its checkpoint of the kept number must be
the kept one), or from the answer of GET /v1/integrity/consistency?from=<kept size> (an RFC 9162
consistency proof, and the checkpoints signed since, each linked to the one before).

  --trust <fp>              fingerprint of an audit key you trust (ed25519:…, shown by the console and
                            logged by the audit service at start); repeatable or comma-separated
  --since <file>            a signed checkpoint you kept (delivered by the webhook or the SIEM, or a
                            checkpoint line of an earlier bundle)
  --consistency <file>      a saved answer of GET /v1/integrity/consistency?from=<kept size>
  --gateway <url>           fetch that answer from the gateway (https; http only to loopback)
  --session-file <file>     the gateway session cookie (name=value) to fetch it with
  --max-age <seconds>       the oldest the answer's latest checkpoint may be (default ${DEFAULT_MAX_AGE_S}: audit
                            signs one at least hourly, so an older one means a frozen view); raise it
                            to check an answer saved long ago
  --no-pin                  check internal consistency only: a bundle rewritten whole, keys included,
                            would pass. Use only to inspect a bundle, never to accept one
  --allow-uncovered-tail    accept events after the last checkpoint (an export always ends with one)
  --json                    print the report as JSON

exit status: 0 verified, 1 not verified, 2 usage or input error`;

function valueOf(argv: readonly string[], index: number, what: string): string {
  const value = argv[index];
  if (value === undefined || value.startsWith('--'))
    throw new UsageError(`${argv[index - 1]} needs ${what}`);
  return value;
}

/** Parses `argv` (without node and the script). */
export function parseArguments(argv: readonly string[]): VerifyArguments {
  let bundle: string | undefined;
  const trusted = new Set<string>();
  let pinned = true;
  let requireCoveredTail = true;
  let json = false;
  let since: string | undefined;
  let consistencyFile: string | undefined;
  let gateway: string | undefined;
  let sessionFile: string | undefined;
  let maxAgeSeconds: number | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--trust') {
      const value = valueOf(argv, ++index, 'a fingerprint');
      for (const fingerprint of value.split(',')) {
        if (!/^ed25519:[A-Za-z0-9_-]{16}$/.test(fingerprint.trim())) {
          throw new UsageError(
            `"${fingerprint}" is not a key fingerprint (ed25519: and 16 base64url characters)`,
          );
        }
        trusted.add(fingerprint.trim());
      }
    } else if (argument === '--since') {
      since = valueOf(argv, ++index, 'the file of a kept checkpoint');
    } else if (argument === '--consistency') {
      consistencyFile = valueOf(argv, ++index, 'the file of a consistency answer');
    } else if (argument === '--gateway') {
      gateway = valueOf(argv, ++index, 'the gateway URL');
    } else if (argument === '--session-file') {
      sessionFile = valueOf(argv, ++index, 'the file holding the session cookie');
    } else if (argument === '--max-age') {
      const value = valueOf(argv, ++index, 'a number of seconds');
      if (!/^[1-9][0-9]{0,8}$/.test(value))
        throw new UsageError(`--max-age needs a whole number of seconds, not "${value}"`);
      maxAgeSeconds = Number(value);
    } else if (argument === '--no-pin') {
      pinned = false;
    } else if (argument === '--allow-uncovered-tail') {
      requireCoveredTail = false;
    } else if (argument === '--json') {
      json = true;
    } else if (argument === '--help' || argument === '-h') {
      throw new UsageError('');
    } else if (argument.startsWith('--')) {
      throw new UsageError(`unknown option ${argument}`);
    } else if (bundle === undefined) {
      bundle = argument;
    } else {
      throw new UsageError('one bundle at a time');
    }
  }
  const consistency = consistencySource(consistencyFile, gateway, sessionFile);
  if (consistency !== undefined && bundle !== undefined)
    throw new UsageError('a bundle or a consistency answer, not both');
  if (consistency !== undefined && since === undefined)
    throw new UsageError(
      'a consistency answer is checked against a kept checkpoint: add --since <file>',
    );
  if (bundle === undefined && consistency === undefined)
    throw new UsageError('which bundle? give a file, or - for standard input');
  if (pinned && trusted.size === 0) {
    throw new UsageError(
      'no trusted audit key: pass --trust <fingerprint>, or --no-pin to check consistency only',
    );
  }
  if (!pinned && trusted.size > 0)
    throw new UsageError('--trust and --no-pin contradict each other');
  if (!pinned && since !== undefined)
    throw new UsageError(
      '--since needs a pinned audit key (--trust): an unpinned check proves nothing',
    );
  if (maxAgeSeconds !== undefined && consistency === undefined)
    throw new UsageError('--max-age goes with --consistency or --gateway');
  return {
    bundle,
    trusted,
    pinned,
    requireCoveredTail,
    json,
    since,
    maxAgeSeconds: maxAgeSeconds ?? DEFAULT_MAX_AGE_S,
    consistency,
  };
}

function consistencySource(
  file: string | undefined,
  gateway: string | undefined,
  sessionFile: string | undefined,
): VerifyArguments['consistency'] {
  if (file !== undefined && gateway !== undefined)
    throw new UsageError('--consistency and --gateway contradict each other: one source');
  if (sessionFile !== undefined && gateway === undefined)
    throw new UsageError('--session-file goes with --gateway');
  if (file !== undefined) return { kind: 'file', path: file };
  if (gateway === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(gateway);
  } catch {
    throw new UsageError(`"${gateway}" is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new UsageError('--gateway must be https (http only to a loopback address)');
  if (url.username !== '' || url.password !== '')
    throw new UsageError('--gateway must not carry credentials: use --session-file');
  if (sessionFile === undefined)
    throw new UsageError('--gateway needs --session-file <file> (the session cookie, name=value)');
  return { kind: 'gateway', url, sessionFile };
}
