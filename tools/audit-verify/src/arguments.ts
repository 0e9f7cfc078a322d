/** What the command line asked for. */
export interface VerifyArguments {
  /** A file path, or `-` for standard input. */
  readonly bundle: string;
  readonly trusted: ReadonlySet<string>;
  readonly pinned: boolean;
  readonly requireCoveredTail: boolean;
  readonly json: boolean;
}

/** A command line that cannot be run; the message says what is wrong and how to fix it. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

export const USAGE = `usage: pnpm audit:verify <bundle.jsonl | -> --trust <fingerprint>[,<fingerprint>…] [options]

Verifies a HeroAgent audit bundle offline: every event signature, the hash chain, and every
checkpoint (signature, Merkle root, chain head, link to the previous one). Names the first bad record.

  --trust <fp>              fingerprint of an audit key you trust (ed25519:…, shown by the console and
                            logged by the audit service at start); repeatable or comma-separated
  --no-pin                  check internal consistency only: a bundle rewritten whole, keys included,
                            would pass. Use only to inspect a bundle, never to accept one
  --allow-uncovered-tail    accept events after the last checkpoint (an export always ends with one)
  --json                    print the report as JSON

exit status: 0 verified, 1 not verified, 2 usage or input error`;

/** Parses `argv` (without node and the script). */
export function parseArguments(argv: readonly string[]): VerifyArguments {
  let bundle: string | undefined;
  const trusted = new Set<string>();
  let pinned = true;
  let requireCoveredTail = true;
  let json = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '--trust') {
      const value = argv[++index];
      if (value === undefined) throw new UsageError('--trust needs a fingerprint');
      for (const fingerprint of value.split(',')) {
        if (!/^ed25519:[A-Za-z0-9_-]{16}$/.test(fingerprint.trim())) {
          throw new UsageError(
            `"${fingerprint}" is not a key fingerprint (ed25519: and 16 base64url characters)`,
          );
        }
        trusted.add(fingerprint.trim());
      }
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
  if (bundle === undefined)
    throw new UsageError('which bundle? give a file, or - for standard input');
  if (pinned && trusted.size === 0) {
    throw new UsageError(
      'no trusted audit key: pass --trust <fingerprint>, or --no-pin to check consistency only',
    );
  }
  if (!pinned && trusted.size > 0)
    throw new UsageError('--trust and --no-pin contradict each other');
  return { bundle, trusted, pinned, requireCoveredTail, json };
}
