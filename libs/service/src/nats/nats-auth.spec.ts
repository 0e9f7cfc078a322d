import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTransportSecurity, commonEnvSchema, natsConfigOf, parseConfig } from '../config.js';
import { configProblems } from '../testing/config-problems.js';
import { nkeyPublicKeyOf } from './nats-auth.js';
import { natsConnectionOptions } from './transport.js';

const schema = commonEnvSchema.superRefine((env, context) => checkTransportSecurity(env, context));
const base = { DATABASE_URL: 'postgres://app@127.0.0.1/h' };
const problemsOf = (env: Record<string, string>): readonly string[] =>
  configProblems(() => parseConfig(schema, { ...base, ...env }));

describe('NATS_NKEY_SEED_FILE', () => {
  let dir: string;
  let seed: string;
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heroagent-nkey-'));
    seed = new TextDecoder().decode(nkeys.createUser().getSeed());
    await writeFile(file('user.nk'), `${seed}\n`, { mode: 0o600 });
    await writeFile(file('account.nk'), new TextDecoder().decode(nkeys.createAccount().getSeed()));
    await writeFile(file('text.nk'), 'not a seed\n');
    // A user seed with one character changed: its checksum no longer matches.
    await writeFile(
      file('corrupt.nk'),
      `${seed.slice(0, 10)}${seed[10] === 'A' ? 'B' : 'A'}${seed.slice(11)}`,
    );
    await mkdir(file('a-directory'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes a file holding a user seed, and connects with an nkey authenticator instead of a password', () => {
    const env = parseConfig(schema, { ...base, NATS_NKEY_SEED_FILE: file('user.nk') });
    expect(env.NATS_NKEY_SEED_FILE).toBe(file('user.nk'));
    const options = natsConnectionOptions(natsConfigOf(env), 'agent');
    expect(options).not.toHaveProperty('user');
    expect(options).not.toHaveProperty('pass');
    expect(options.inboxPrefix).toBe('_INBOX.agent');
    const auth = (options as { authenticator?: (nonce?: string) => unknown }).authenticator!(
      'a-nonce',
    ) as { nkey: string; sig: string };
    expect(auth.nkey).toBe(nkeyPublicKeyOf(file('user.nk')));
    expect(auth.nkey).toMatch(/^U[A-Z2-7]{55}$/);
    expect(
      nkeys
        .fromPublic(auth.nkey)
        .verify(new TextEncoder().encode('a-nonce'), nkeys.decode(auth.sig)),
    ).toBe(true);
  });

  it.each([
    ['a missing file', 'missing.nk', /^NATS_NKEY_SEED_FILE: cannot be read \(ENOENT\)$/],
    ['a directory', 'a-directory', /^NATS_NKEY_SEED_FILE: cannot be read \(EISDIR\)$/],
    ['text that is no seed', 'text.nk', /^NATS_NKEY_SEED_FILE: must hold a NATS user nkey seed/],
    ['an account seed', 'account.nk', /^NATS_NKEY_SEED_FILE: must hold a NATS user nkey seed/],
    [
      'a seed whose checksum fails',
      'corrupt.nk',
      /^NATS_NKEY_SEED_FILE: must hold a NATS user nkey seed/,
    ],
  ])('refuses %s, naming the variable and never the seed', (_case, name, message) => {
    const problems = problemsOf({ NATS_NKEY_SEED_FILE: file(name) });
    expect(problems).toEqual([expect.stringMatching(message)]);
    expect(problems.join()).not.toContain(seed.slice(2, 20));
  });

  it('refuses a password or a user name beside it', () => {
    expect(
      problemsOf({
        NATS_NKEY_SEED_FILE: file('user.nk'),
        NATS_USER: 'agent',
        NATS_PASSWORD: 'ExamplePassword000000000',
      }),
    ).toEqual([
      expect.stringMatching(/^NATS_PASSWORD: must not be set with NATS_NKEY_SEED_FILE/),
      expect.stringMatching(/^NATS_USER: must not be set with NATS_NKEY_SEED_FILE/),
    ]);
  });

  it('leaves a password connection as it was', () => {
    const env = parseConfig(schema, {
      ...base,
      NATS_USER: 'agent',
      NATS_PASSWORD: 'ExamplePassword000000000',
    });
    const options = natsConnectionOptions(natsConfigOf(env), 'agent');
    expect(options).toMatchObject({ user: 'agent', pass: 'ExamplePassword000000000' });
    expect(options).not.toHaveProperty('authenticator');
  });
});
