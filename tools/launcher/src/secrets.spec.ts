import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NATS_USERS, loadOrCreateDevSecrets } from './secrets.js';

describe('development secrets', () => {
  const homes: string[] = [];
  const home = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'heroagent-secrets-'));
    homes.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of homes.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('gives every user of deploy/nats a password nats-server can read', async () => {
    const { secrets } = await loadOrCreateDevSecrets(await home());
    expect(Object.keys(secrets.nats).sort()).toEqual([...NATS_USERS].sort());
    for (const user of NATS_USERS) expect(secrets.nats[user]).toMatch(/^[A-Za-z][A-Za-z0-9]{23,}$/);
  });

  it('adds the relay’s and the provisioner’s passwords to a file written before they existed', async () => {
    const dir = await home();
    const first = await loadOrCreateDevSecrets(dir);
    const { 'gateway-relay': _relay, provisioner: _provisioner, ...older } = first.secrets.nats;
    await writeFile(first.file, JSON.stringify({ ...first.secrets, nats: older }), { mode: 0o600 });
    const again = await loadOrCreateDevSecrets(dir);
    expect(again.created).toBe(false);
    // The services' passwords are kept; the new users get theirs, written back, owner-only.
    expect(again.secrets.nats).toMatchObject(older);
    expect(again.secrets.nats['gateway-relay']).toMatch(/^[A-Za-z][A-Za-z0-9]{23,}$/);
    expect(again.secrets.nats.provisioner).toMatch(/^[A-Za-z][A-Za-z0-9]{23,}$/);
    const stored = JSON.parse(await readFile(again.file, 'utf8')) as typeof again.secrets;
    expect(stored.nats).toEqual(again.secrets.nats);
    expect((await stat(again.file)).mode & 0o777).toBe(0o600);
  });
});
