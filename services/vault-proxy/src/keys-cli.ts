#!/usr/bin/env node
// The embedded store's key file, for operators: `create <file>` makes one (mode 0600) unless it
// exists; `rotate <file>` adds a new current key version. vault-proxy rewraps every stored value
// to the current version at its next start and logs how many it rewrapped.
import { SecretsError } from './secrets/secrets-backend.js';
import { createKeyFile, rotateKeyFile } from './secrets/embedded/key-file.js';

const USAGE = 'usage: vault-proxy-keys create|rotate <key-file>';
const EXIT_USAGE = 64;
const EXIT_FAILED = 1;

async function run(argv: readonly string[]): Promise<number> {
  const [command, file, ...rest] = argv;
  if ((command !== 'create' && command !== 'rotate') || !file || rest.length > 0) {
    process.stderr.write(`vault-proxy-keys: USAGE: ${USAGE}\n`);
    return EXIT_USAGE;
  }
  try {
    if (command === 'create') {
      if (!(await createKeyFile(file))) {
        process.stderr.write(`vault-proxy-keys: EXISTS: ${file} exists; it was left as it is\n`);
        return EXIT_FAILED;
      }
      process.stdout.write(`created ${file} with key version 1\n`);
    } else {
      const version = await rotateKeyFile(file);
      process.stdout.write(
        `rotated ${file}: key version ${version} is current; restart vault-proxy to rewrap\n`,
      );
    }
    return 0;
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error;
    process.stderr.write(`vault-proxy-keys: ${error.code}: ${error.message}\n`);
    return EXIT_FAILED;
  }
}

process.exitCode = await run(process.argv.slice(2));
